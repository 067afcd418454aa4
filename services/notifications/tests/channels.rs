//! Email and SMS: a tenant's email address and phone number, sealed under its key, get a
//! failed workload's notification through a real SMTP server (aiosmtpd from PyPI, which
//! the test starts) and an HTTP provider with Twilio's message API (the test's receiver);
//! the addresses are never in the log in clear, are shown masked, and once the tenant's
//! key is erased they cannot be read and nothing is sent.

mod common;

use common::{failed, received, tool, until_state};
use hcp_e2e::Proc;
use hcp_eventstore::EventStore;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_notifications::keys::Keys;
use hcp_proto::v1 as pb;
use hcp_proto::v1::notifications_client::NotificationsClient;
use hcp_runtime::config::{NotificationsConfig, Secret, SmsConfig, SmtpConfig};
use hcp_runtime::{Host, Metrics};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_and_sms_reach_their_servers_and_addresses_stay_sealed() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The SMTP server, printing each message it takes.
    let smtp_port = free_port();
    let aiosmtpd = tool("ensure-aiosmtpd.sh", "AIOSMTPD_VENV", ".venv-aiosmtpd").join("bin/python");
    let mut command = Command::new(aiosmtpd);
    command.args(["-u", "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Debugging", "-l"]);
    command.arg(format!("127.0.0.1:{smtp_port}"));
    let smtp = Proc::spawn("aiosmtpd", command);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", smtp_port)).is_err() {
        assert!(Instant::now() < deadline, "aiosmtpd did not listen:\n{}", smtp.output());
        std::thread::sleep(Duration::from_millis(50));
    }
    // The SMS provider.
    let (provider, port) = common::receiver("sms provider", &dir.path().join("none.json"));

    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let host = Host::new(Arc::clone(&store), Metrics::new(), "test");
    let keys = Keys::new(dir.path().join("keys"));
    let config = NotificationsConfig {
        timeout_seconds: 5.0,
        smtp: Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port: smtp_port,
            from: "HCP Alerts <alerts@hcp.example>".into(),
            username: None,
            password: None,
        }),
        sms: Some(SmsConfig {
            base_url: format!("http://127.0.0.1:{port}"),
            account_sid: "AC0123".into(),
            auth_token: Secret::new("tok".to_owned()),
            from: "+15550001111".into(),
        }),
        ..NotificationsConfig::default()
    };
    let addr = hcp_notifications::start(&host, &config, keys.clone(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("notifications");
    let channel = hcp_proto::client::connect(&format!("http://{addr}")).await.expect("connect");
    let mut client = NotificationsClient::new(channel);

    let contact = |channel: &str, address: &str| pb::CreateContactRequest {
        tenant: "acme".into(),
        channel: channel.into(),
        address: address.into(),
        types: vec![],
    };
    let email = client.create_contact(contact("email", "ops@acme.example")).await.expect("email").into_inner();
    let sms = client.create_contact(contact("sms", "+15557654321")).await.expect("sms").into_inner();
    assert_eq!((email.address.as_str(), sms.address.as_str()), ("o…@acme.example", "+1…21"));
    for (channel, address, field) in
        [("email", "not an address", "address"), ("sms", "555-1234", "address"), ("fax", "x", "channel")]
    {
        let refused = client.create_contact(contact(channel, address)).await.expect_err(address);
        assert!(refused.message().starts_with(field), "{refused:?}");
    }

    let workload = failed(&store, "acme").await;
    until_state(&mut client, "acme", &email.id, "delivered").await;
    until_state(&mut client, "acme", &sms.id, "delivered").await;
    // What the servers print comes through pipes: a moment behind their answers.
    let texts =
        || -> Vec<serde_json::Value> { received(&provider).into_iter().filter(|r| r.get("sms").is_some()).collect() };
    let deadline = Instant::now() + Duration::from_secs(5);
    while (!smtp.output().contains("X-Peer") || texts().is_empty()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mail = smtp.output();
    assert!(
        mail.contains("To: ops@acme.example") && mail.contains("From: \"HCP Alerts\" <alerts@hcp.example>"),
        "{mail}"
    );
    assert!(mail.contains(&format!("Subject: [HCP] workload.failed: {workload}")), "{mail}");
    assert!(mail.contains("out of memory"), "{mail}");
    let texts = texts();
    assert_eq!(texts.len(), 1, "{texts:?}");
    let text = &texts[0];
    assert_eq!((text["authorized"].as_bool(), text["sms"]["To"].as_str()), (Some(true), Some("+15557654321")));
    assert_eq!(text["sms"]["From"], "+15550001111");
    assert!(text["sms"]["Body"].as_str().is_some_and(|b| b.contains("workload.failed")), "{text}");

    // Never in the log in clear; erased with the key.
    let all = store.read_all(0, usize::MAX).await.expect("read");
    for address in ["ops@acme.example", "+15557654321"] {
        assert!(
            !all.iter().any(|e| e.payload.windows(address.len()).any(|w| w == address.as_bytes())),
            "{address} in the log"
        );
    }
    assert!(keys.erase("acme").expect("erase"));
    let listed = client.list_contacts(pb::ListContactsRequest { tenant: "acme".into() }).await.expect("list");
    assert!(listed.into_inner().contacts.iter().all(|c| !c.readable && c.address.is_empty()));
    failed(&store, "acme").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        received(&provider).into_iter().filter(|r| r.get("sms").is_some()).count(),
        1,
        "sent after the key was erased"
    );
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}
