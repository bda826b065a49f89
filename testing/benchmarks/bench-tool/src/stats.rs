//! Percentiles of a sample (nearest rank) and their `key=value` report.

/// p50, p99 and max of `values` (milliseconds), as `prefix_p50=... prefix_p99=... prefix_max=... prefix_n=...`.
pub fn summary(prefix: &str, mut values: Vec<f64>) -> String {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let rank = |p: f64| -> String {
        if n == 0 {
            return "n/a".into();
        }
        let index = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
        format!("{:.0}", values[index])
    };
    format!(
        "{prefix}_p50={} {prefix}_p99={} {prefix}_max={} {prefix}_n={n}",
        rank(0.50),
        rank(0.99),
        rank(1.0)
    )
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn nearest_rank_percentiles() {
        let values = (1..=100).map(f64::from).collect();
        assert_eq!(summary("x", values), "x_p50=50 x_p99=99 x_max=100 x_n=100");
        assert_eq!(summary("y", vec![]), "y_p50=n/a y_p99=n/a y_max=n/a y_n=0");
        assert_eq!(summary("z", vec![7.0]), "z_p50=7 z_p99=7 z_max=7 z_n=1");
    }
}
