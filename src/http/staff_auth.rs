//! What the staff pages (agent console, picker page) share: logging in and out, the session
//! cookie and the CSRF token of write requests.
//!
//! Each page has its own cookie, scoped to its own path, so a session opened on one page is
//! never sent to the other; the accounts and sessions behind them are the same.

use axum::http::{HeaderMap, HeaderValue, header};

use super::{AppError, AppState};
use crate::domain::Duty;
use crate::services::{AgentSession, HandoffError};

/// The header that carries a session's CSRF token on every write request but the login.
const CSRF_HEADER: &str = "x-csrf-token";

/// One staff page's sessions: the cookie that carries them, the path it is scoped to and the
/// duty the page needs of an account.
pub(super) struct StaffDoor {
    pub cookie: &'static str,
    pub path: &'static str,
    pub duty: Duty,
    /// What an unauthorised caller is told.
    pub login_hint: &'static str,
}

impl StaffDoor {
    fn token(&self, headers: &HeaderMap) -> Option<String> {
        cookie_value(headers, self.cookie)
    }

    /// The session of the request's cookie, if its account has the page's duty.
    pub(super) async fn session(
        &self,
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<AgentSession, AppError> {
        let token = self
            .token(headers)
            .ok_or(AppError::Unauthorized(self.login_hint))?;
        let session = state
            .services
            .agent_session(&token)
            .await?
            .ok_or(AppError::Unauthorized(self.login_hint))?;
        Ok(session.for_duty(self.duty)?)
    }

    /// The session of a write request: as [`StaffDoor::session`], and its CSRF token sent in
    /// the header.
    pub(super) async fn writer(
        &self,
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<AgentSession, AppError> {
        let s = self.session(state, headers).await?;
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !same_secret(sent, &s.csrf) {
            return Err(AppError::Csrf);
        }
        Ok(s)
    }

    /// Opens a session: its `Set-Cookie` value (Secure when the public URL is https) and the
    /// session.
    pub(super) async fn login(
        &self,
        state: &AppState,
        login: &str,
        password: &str,
    ) -> Result<(HeaderValue, AgentSession), AppError> {
        let (token, session) = state
            .services
            .agent_login(login, password, self.duty)
            .await?;
        let secure = if state.engine.public_url().starts_with("https://") {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{}={token}; Path={}; HttpOnly; SameSite=Strict{secure}",
            self.cookie, self.path
        );
        // The token is hex and the rest is ours: a value that is not a header is a bug.
        let cookie = HeaderValue::from_str(&cookie)
            .map_err(|e| AppError::Staff(HandoffError::Invalid(format!("session cookie: {e}"))))?;
        Ok((cookie, session))
    }

    /// Ends the request's session (a write request: the CSRF token is checked); the
    /// `Set-Cookie` value that clears the cookie.
    pub(super) async fn logout(
        &self,
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<HeaderValue, AppError> {
        let s = self.writer(state, headers).await?;
        if let Some(t) = self.token(headers) {
            state.services.agent_logout(&t, s.agent_id).await?;
        }
        let cleared = format!(
            "{}=; Path={}; HttpOnly; SameSite=Strict; Max-Age=0",
            self.cookie, self.path
        );
        HeaderValue::from_str(&cleared)
            .map_err(|e| AppError::Staff(HandoffError::Invalid(format!("session cookie: {e}"))))
    }
}

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
