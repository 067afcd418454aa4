//! The channels a delivery goes out on: a webhook (Standard Webhooks over HTTP), an email
//! (SMTP, lettre) or an SMS (an HTTP provider with Twilio's message API). Each answers in
//! the webhook's terms (an HTTP status, `Retry-After`, what came back), so one retry
//! schedule serves all: an email accepted by the relay is a 200, one it refuses has no
//! status and is tried again.

use crate::keys::Keys;
use crate::view::Endpoint;
use base64::Engine;
use bytes::Bytes;
use hcp_notify::webhook::{self, Secret};
use hcp_proto::v1 as pb;
use hcp_runtime::config::{NotificationsConfig, SmsConfig, SmtpConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Where a delivery goes.
pub enum Target {
    /// A webhook endpoint.
    Webhook(Endpoint),
    /// An email address or a phone number.
    Contact(pb::ContactCreated),
}

/// What one try came to.
#[derive(Debug, Default)]
pub struct Sent {
    /// The status (none: no answer).
    pub status: Option<u16>,
    /// `Retry-After`, if any.
    pub retry_after: Option<String>,
    /// The first bytes of what came back.
    pub response: String,
    /// Why there was no answer.
    pub error: String,
}

fn excerpt(text: &[u8]) -> String {
    String::from_utf8_lossy(&text[..text.len().min(256)]).into_owned()
}

fn failed(error: impl std::fmt::Display) -> Sent {
    Sent { error: error.to_string(), ..Sent::default() }
}

/// Sends one notification on its channel; `None` when it cannot be sent at all (the
/// tenant's key erased, or the channel not configured): it stays pending.
pub async fn send(
    target: &Target,
    keys: &Keys,
    config: &NotificationsConfig,
    notification: &str,
    kind: &str,
    body: &str,
) -> Result<Sent, String> {
    let timeout = Duration::from_secs_f64(config.timeout_seconds);
    match target {
        Target::Webhook(endpoint) => {
            let secrets = secrets(keys, endpoint).ok_or("the tenant's key is erased: nothing can be signed")?;
            let sent_at = hcp_runtime::clock::now_micros() / 1_000_000;
            let mut headers: Vec<(&str, String)> =
                webhook::headers(&secrets, notification, sent_at, body.as_bytes()).into_iter().collect();
            headers.push(("content-type", "application/json".into()));
            let body = Bytes::from(body.to_owned());
            Ok(match hcp_runtime::fetch::post(&endpoint.created.url, &headers, body, timeout).await {
                Ok(r) => Sent {
                    status: Some(r.status),
                    retry_after: r.retry_after,
                    response: excerpt(&r.body),
                    ..Sent::default()
                },
                Err(e) => failed(e),
            })
        }
        Target::Contact(contact) => {
            let address = open(keys, &contact.tenant, &contact.address_sealed)
                .ok_or("the tenant's key is erased: the address cannot be read")?;
            let mut sent = match contact.channel.as_str() {
                "email" => {
                    let smtp = config.smtp.as_ref().ok_or("no [notifications.smtp] is configured")?;
                    email(smtp, &address, notification, kind, body, timeout).await
                }
                _ => {
                    let sms = config.sms.as_ref().ok_or("no [notifications.sms] is configured")?;
                    text(sms, &address, kind, body, timeout).await
                }
            };
            // What comes back is recorded in the log: it may echo the address, which may not.
            let masked = mask(&address);
            sent.response = sent.response.replace(&address, &masked);
            sent.error = sent.error.replace(&address, &masked);
            Ok(sent)
        }
    }
}

/// An address with most of it hidden: `o…@acme.example`, `+1…99`.
pub fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((user, domain)) => format!("{}…@{domain}", user.chars().next().unwrap_or('?')),
        None => {
            let chars: Vec<char> = address.chars().collect();
            let tail: String = chars[chars.len().saturating_sub(2)..].iter().collect();
            format!("{}…{tail}", chars.iter().take(2).collect::<String>())
        }
    }
}

fn open(keys: &Keys, tenant: &str, sealed: &str) -> Option<String> {
    let key = keys.get(tenant).ok().flatten()?;
    key.open(tenant, sealed).ok().map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The secrets that sign for `endpoint` now (the current one, and the one before it
/// during the overlap); none when its tenant's key is erased.
fn secrets(keys: &Keys, endpoint: &Endpoint) -> Option<Vec<Secret>> {
    let tenant = &endpoint.created.tenant;
    let current = Secret::parse(&open(keys, tenant, &endpoint.secret_sealed)?).ok()?;
    let mut secrets = vec![current];
    if let Some((previous, until)) = &endpoint.previous
        && *until > hcp_runtime::clock::now_micros()
        && let Some(s) = open(keys, tenant, previous).and_then(|t| Secret::parse(&t).ok())
    {
        secrets.push(s);
    }
    Some(secrets)
}

/// The subject and text of a notification.
fn words(kind: &str, body: &str) -> (String, String) {
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let subject = parsed["data"]["subject"].as_str().unwrap_or_default();
    let title = if subject.is_empty() { format!("[HCP] {kind}") } else { format!("[HCP] {kind}: {subject}") };
    let text = serde_json::to_string_pretty(&parsed["data"]).unwrap_or_else(|_| body.to_owned());
    (title, text)
}

async fn email(smtp: &SmtpConfig, to: &str, notification: &str, kind: &str, body: &str, timeout: Duration) -> Sent {
    let (subject, text) = words(kind, body);
    let from: lettre::message::Mailbox = match smtp.from.parse() {
        Ok(m) => m,
        Err(e) => return failed(format!("notifications.smtp.from {:?}: {e}", smtp.from)),
    };
    let to: lettre::message::Mailbox = match to.parse() {
        Ok(m) => m,
        Err(e) => return failed(format!("the address: {e}")),
    };
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{notification}@hcp>")))
        .body(format!("{text}\n\nNotification {notification}\n"));
    let message = match message {
        Ok(m) => m,
        Err(e) => return failed(format!("the message: {e}")),
    };
    let mut relay =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host).port(smtp.port).timeout(Some(timeout));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        relay = relay.credentials(lettre::transport::smtp::authentication::Credentials::new(
            user.clone(),
            password.expose().to_owned(),
        ));
    }
    match relay.build().send(message).await {
        Ok(response) => Sent {
            status: Some(200),
            response: format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" ")),
            ..Sent::default()
        },
        Err(e) => failed(format!("SMTP: {e}")),
    }
}

/// `application/x-www-form-urlencoded`.
fn form(fields: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

async fn text(sms: &SmsConfig, to: &str, kind: &str, body: &str, timeout: Duration) -> Sent {
    let (subject, _) = words(kind, body);
    let url = format!("{}/2010-04-01/Accounts/{}/Messages.json", sms.base_url.trim_end_matches('/'), sms.account_sid);
    let auth =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", sms.account_sid, sms.auth_token.expose()));
    let headers =
        [("authorization", format!("Basic {auth}")), ("content-type", "application/x-www-form-urlencoded".to_owned())];
    let body = form(&[("To", to), ("From", &sms.from), ("Body", &subject)]);
    match hcp_runtime::fetch::post(&url, &headers, Bytes::from(body), timeout).await {
        Ok(r) => {
            Sent { status: Some(r.status), retry_after: r.retry_after, response: excerpt(&r.body), ..Sent::default() }
        }
        Err(e) => failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_encoded_and_words_read_the_body() {
        assert_eq!(form(&[("To", "+1 555"), ("Body", "a&b=c")]), "To=%2B1+555&Body=a%26b%3Dc");
        let body = r#"{"type":"workload.failed","data":{"subject":"w-1","reason":"oom"}}"#;
        let (subject, text) = words("workload.failed", body);
        assert_eq!(subject, "[HCP] workload.failed: w-1");
        assert!(text.contains("\"reason\": \"oom\""), "{text}");
    }
}
