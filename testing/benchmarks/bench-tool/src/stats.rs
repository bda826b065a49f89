//! Percentiles of a sample (nearest rank) and their `key=value` report, whole or by time slice.

/// Length of the slices of [`p99_by_slice`], seconds.
pub const SLICE_SECS: f64 = 10.0;

/// Nearest-rank `p` percentile of sorted `values`, rounded (`n/a` when empty).
fn rank(sorted: &[f64], p: f64) -> String {
    let n = sorted.len();
    if n == 0 {
        return "n/a".into();
    }
    let index = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
    format!("{:.0}", sorted[index])
}

/// p99 of the values of each `slice`-second slice of `(time, value)` samples from `since` (seconds), as
/// `prefix_p99_by_10s=a/b/c` (slice length in the key; `n/a` for an empty slice, none after the last sample's).
pub fn p99_by_slice(prefix: &str, samples: &[(f64, f64)], since: f64, slice: f64) -> String {
    let mut slices: Vec<Vec<f64>> = Vec::new();
    for &(at, value) in samples {
        let index = ((at - since) / slice).floor().max(0.0) as usize;
        if slices.len() <= index {
            slices.resize_with(index + 1, Vec::new);
        }
        slices[index].push(value);
    }
    let p99s: Vec<String> = slices
        .iter_mut()
        .map(|values| {
            values.sort_by(f64::total_cmp);
            rank(values, 0.99)
        })
        .collect();
    format!("{prefix}_p99_by_{slice:.0}s={}", p99s.join("/"))
}

/// p50, p99 and max of `values` (milliseconds), as `prefix_p50=... prefix_p99=... prefix_max=... prefix_n=...`.
pub fn summary(prefix: &str, mut values: Vec<f64>) -> String {
    values.sort_by(f64::total_cmp);
    format!(
        "{prefix}_p50={} {prefix}_p99={} {prefix}_max={} {prefix}_n={}",
        rank(&values, 0.50),
        rank(&values, 0.99),
        rank(&values, 1.0),
        values.len()
    )
}

#[cfg(test)]
mod tests {
    use super::{p99_by_slice, summary};

    #[test]
    fn nearest_rank_percentiles() {
        let values = (1..=100).map(f64::from).collect();
        assert_eq!(summary("x", values), "x_p50=50 x_p99=99 x_max=100 x_n=100");
        assert_eq!(summary("y", vec![]), "y_p50=n/a y_p99=n/a y_max=n/a y_n=0");
        assert_eq!(summary("z", vec![7.0]), "z_p50=7 z_p99=7 z_max=7 z_n=1");
    }

    #[test]
    fn p99_of_each_slice() {
        let samples = vec![
            (100.0, 5.0),
            (101.0, 7.0),
            (112.0, 30.0),
            (135.0, 9.0),
            (99.0, 1.0),
        ];
        assert_eq!(
            p99_by_slice("x", &samples, 100.0, 10.0),
            "x_p99_by_10s=7/30/n/a/9"
        );
        assert_eq!(p99_by_slice("y", &[], 100.0, 10.0), "y_p99_by_10s=");
    }
}
