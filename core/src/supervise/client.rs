//! The Kafka Connect REST client: lists every connector's status and asks Connect to restart a connector's failed
//! parts. Its errors show the REST API's URL without user info.

use super::options::SuperviseOptions;
use super::redact::{cut, redact};
use super::status::{parse_statuses, ConnectorStatus};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::time::Duration;

/// Characters kept as they are in a connector name used as a URL path segment (RFC 3986 unreserved).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The Kafka Connect REST API could not be reached or answered something unexpected. `url` is shown without
/// user info.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// No answer: connection refused, timeout, TLS failure.
    #[error("kafka connect at {url}: {action}: {source}")]
    Unreachable {
        /// The REST API's base URL.
        url: String,
        /// What the supervisor was doing.
        action: String,
        /// The HTTP client's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An HTTP status other than the expected ones (e.g. 409 while the workers rebalance, 404 for a connector
    /// deleted meanwhile).
    #[error("kafka connect at {url}: {action}: HTTP {status}: {body}")]
    Status {
        /// The REST API's base URL.
        url: String,
        /// What the supervisor was doing.
        action: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// An answer that does not have the documented shape.
    #[error("kafka connect at {url}: {action}: unexpected answer: {reason}")]
    Answer {
        /// The REST API's base URL.
        url: String,
        /// What the supervisor was doing.
        action: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A blocking HTTP client of one Connect REST API.
pub(super) struct Client {
    agent: ureq::Agent,
    base: String,
    shown: String,
}

impl Client {
    /// A client of `options.connect_url` (already validated) with its request timeout; contacts nothing yet.
    pub(super) fn new(options: &SuperviseOptions) -> Self {
        let base = options.connect_url.trim().trim_end_matches('/').to_string();
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(options.request_timeout_ms)))
            .http_status_as_error(false)
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::NativeTls)
                    .build(),
            )
            .build();
        Client {
            agent: config.into(),
            shown: redact(&base),
            base,
        }
    }

    /// The REST API's URL as logs show it (without user info).
    pub(super) fn shown(&self) -> &str {
        &self.shown
    }

    /// Every connector's status (`GET /connectors?expand=status`), sorted by name.
    pub(super) fn statuses(&self) -> Result<Vec<ConnectorStatus>, ConnectError> {
        let action = "listing the connectors' status";
        let url = format!("{}/connectors?expand=status", self.base);
        let (status, body) = self.call(self.agent.get(&url).call(), action)?;
        if status != 200 {
            return Err(self.status_error(action, status, &body));
        }
        parse_statuses(&body).map_err(|reason| ConnectError::Answer {
            url: self.shown.clone(),
            action: action.to_string(),
            reason,
        })
    }

    /// Asks Connect to restart the failed parts of connector `name` (the connector and/or its failed tasks).
    pub(super) fn restart(&self, name: &str) -> Result<(), ConnectError> {
        let action = format!("restarting connector `{name}`");
        let url = format!(
            "{}/connectors/{}/restart?includeTasks=true&onlyFailed=true",
            self.base,
            utf8_percent_encode(name, PATH_SEGMENT)
        );
        self.call(self.agent.post(&url).send_empty(), &action)
            .and_then(|(code, body)| match code {
                200..=299 => Ok(()),
                _ => Err(self.status_error(&action, code, &body)),
            })
    }

    /// The answer's status code and body; no answer (or an unreadable body) is [`ConnectError::Unreachable`].
    fn call(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        action: &str,
    ) -> Result<(u16, String), ConnectError> {
        let unreachable = |source: ureq::Error| ConnectError::Unreachable {
            url: self.shown.clone(),
            action: action.to_string(),
            source: Box::new(source),
        };
        let mut response = result.map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(unreachable)?;
        Ok((status, body))
    }

    /// An unexpected status, quoting the start of the body (masked).
    fn status_error(&self, action: &str, status: u16, body: &str) -> ConnectError {
        ConnectError::Status {
            url: self.shown.clone(),
            action: action.to_string(),
            status,
            body: cut(&redact(body.trim())),
        }
    }
}
