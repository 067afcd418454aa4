//! Our signatures checked by the reference implementation: the `standardwebhooks`
//! package from PyPI (pinned, in its own venv: `scripts/ensure-standardwebhooks.sh`)
//! verifies deliveries signed here, with one secret and with two during a rotation, and
//! refuses a changed body; and signs a message the same way we do.

use hcp_notify::webhook::{Secret, headers};
use std::path::PathBuf;
use std::process::Command;

fn venv() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let status = Command::new(root.join("scripts/ensure-standardwebhooks.sh")).status().expect("run the script");
    assert!(status.success(), "scripts/ensure-standardwebhooks.sh failed ({status}): the reference is required");
    std::env::var_os("STANDARDWEBHOOKS_VENV").map_or_else(|| root.join(".venv-standardwebhooks"), PathBuf::from)
}

const CHECK: &str = r#"
import json, sys, time
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from datetime import datetime, timezone
cases = json.load(sys.stdin)
out = []
for c in cases:
    try:
        Webhook(c["secret"]).verify(c["body"].encode(), c["headers"])
        out.append("ok")
    except WebhookVerificationError as e:
        out.append("refused: " + str(e))
w = Webhook(cases[0]["secret"])
h = cases[0]["headers"]
out.append(w.sign(h["webhook-id"], datetime.fromtimestamp(int(h["webhook-timestamp"]), tz=timezone.utc), cases[0]["body"].encode()))
print(json.dumps(out))
"#;

#[test]
fn the_reference_implementation_verifies_our_deliveries() {
    let python = venv().join("bin/python");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    let (old, new) = (Secret::generate(), Secret::generate());
    let body = r#"{"type":"workload.failed","data":{"workload_id":"w-1","reason":"OOM ✗"}}"#;
    let case = |secret: &Secret, signers: &[Secret], sent: &str| {
        let h = headers(signers, "msg_2f1c", now, body.as_bytes());
        let headers: serde_json::Map<String, serde_json::Value> =
            h.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str()))).collect();
        serde_json::json!({"secret": secret.expose(), "body": sent, "headers": headers})
    };
    let cases = serde_json::json!([
        case(&old, std::slice::from_ref(&old), body),
        case(&old, &[old.clone(), new.clone()], body),
        case(&new, &[old.clone(), new.clone()], body),
        case(&old, std::slice::from_ref(&old), &body.replace("OOM", "oom")),
        case(&Secret::generate(), &[old.clone(), new.clone()], body),
    ]);
    let mut child = Command::new(&python)
        .args(["-c", CHECK])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python");
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(cases.to_string().as_bytes()).expect("write");
    let out = child.wait_with_output().expect("python ran");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let answers: Vec<String> = serde_json::from_str(text.trim()).expect("JSON answers");
    assert_eq!(&answers[..3], ["ok", "ok", "ok"], "{text}");
    assert!(answers[3].starts_with("refused") && answers[4].starts_with("refused"), "{text}");
    assert_eq!(answers[5], old.sign("msg_2f1c", now, body.as_bytes()), "the reference signs as we do");
}
