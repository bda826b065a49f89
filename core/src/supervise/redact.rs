//! What logs and errors may quote from Kafka Connect: credential-like values masked, long text cut. A Connect URL's
//! user info and `password=...`-like values in traces never reach a log line.

/// Longest text quoted from a trace or an answer body in logs and errors.
const MAX_QUOTED_CHARS: usize = 300;

/// The first line of a Java trace (exception class and message), with credential-like values masked and cut to a
/// loggable length.
pub fn trace_headline(trace: &str) -> String {
    let line = trace.lines().map(str::trim).find(|l| !l.is_empty());
    cut(&redact(line.unwrap_or("")))
}

/// The innermost `Caused by:` line of a Java trace, masked and cut like [`trace_headline`].
pub fn trace_root_cause(trace: &str) -> Option<String> {
    trace
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("Caused by:"))
        .next_back()
        .map(|l| cut(&redact(l.trim())))
}

/// `text`, cut to [`MAX_QUOTED_CHARS`] characters (an ellipsis marks a cut).
pub(super) fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

/// Masks what looks like a credential: the value after `password`, `secret`, `token` or `credential` followed by
/// `=` or `:`, and the user info of a URL (`scheme://user:pass@host`).
pub fn redact(text: &str) -> String {
    const KEYS: [&str; 5] = ["password", "passwd", "secret", "token", "credential"];
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        // URL user info: "://" then anything but '/', whitespace or '@' up to an '@'.
        if lower[at..].starts_with("://") {
            let start = at + 3;
            let end = text[start..]
                .find(|c: char| c == '/' || c == '@' || c.is_whitespace())
                .map_or(text.len(), |i| start + i);
            if text[end..].starts_with('@') && end > start {
                out.push_str(&text[copied..start]);
                out.push_str("***");
                copied = end;
                at = end;
                continue;
            }
        }
        if let Some(key) = KEYS.iter().find(|k| lower[at..].starts_with(**k)) {
            // The rest of the key's word (`password_file`, `secret.key`), spaces, then `=` or `:`.
            let mut i = at + key.len();
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || b"_.-".contains(&bytes[i]))
            {
                i += 1;
            }
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'=' || bytes[i] == b':') {
                i += 1;
                while i < bytes.len() && bytes[i] == b' ' {
                    i += 1;
                }
                while i < bytes.len() && (bytes[i] == b'\'' || bytes[i] == b'"') {
                    i += 1;
                }
                let end = text[i..]
                    .find(|c: char| c.is_whitespace() || ",;&'\")]}".contains(c))
                    .map_or(text.len(), |n| i + n);
                if end > i {
                    out.push_str(&text[copied..i]);
                    out.push_str("***");
                    copied = end;
                }
                at = end.max(at + 1);
                continue;
            }
            at = i.max(at + 1);
            continue;
        }
        at += text[at..].chars().next().map_or(1, char::len_utf8);
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_are_masked_and_cut() {
        assert_eq!(
            redact("Access denied; password=hunter2, user=x"),
            "Access denied; password=***, user=x"
        );
        assert_eq!(
            redact("database.password: 's3cr=t' and Token = abc"),
            "database.password: '***' and Token = ***"
        );
        assert_eq!(
            redact("jdbc:mariadb://dbz:pw@127.0.0.1:3306/x"),
            "jdbc:mariadb://***@127.0.0.1:3306/x"
        );
        assert_eq!(
            redact("http://127.0.0.1:8083/a@b"),
            "http://127.0.0.1:8083/a@b"
        );
        assert_eq!(
            redact("Using password: YES é"),
            "Using password: *** é",
            "MySQL's `(using password: YES)` is masked too; harmless"
        );
        assert_eq!(redact("no secrets here"), "no secrets here");
        assert_eq!(redact("secret"), "secret");
        let long = format!("x: {}", "é".repeat(1000));
        assert_eq!(trace_headline(&long).chars().count(), MAX_QUOTED_CHARS + 3);
        assert_eq!(trace_headline("\n\n  first\nsecond"), "first");
        assert_eq!(trace_root_cause("no cause"), None);
    }
}
