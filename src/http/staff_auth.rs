//! What the staff pages (agent console, picker page) share for their session cookies and
//! CSRF tokens.

use axum::http::{HeaderMap, header};

/// The value of the cookie `name` in a request.
pub(super) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Compares without an early exit, so timing tells nothing about a guessed token.
pub(super) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_named_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; freshbot_agent=tok; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_value(&h, "freshbot_agent").as_deref(), Some("tok"));
        assert_eq!(cookie_value(&h, "freshbot_picker"), None);
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("a", "ab"));
    }
}
