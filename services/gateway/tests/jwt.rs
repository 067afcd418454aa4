//! JWT bearer tokens against a test issuer this test starts (an Ed25519 key published
//! as a JWKS over HTTP, as an OIDC provider publishes its `jwks_uri`): a good token acts
//! for its tenant in its roles; expired, foreign-issuer, wrong-audience, badly signed,
//! `alg: none` and HMAC tokens are 401; a rotated key is fetched when first seen; an
//! unreachable issuer is 503.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Platform, http};
use hcp_eventstore::EventStore;
use hcp_gateway::Upstreams;
use hcp_runtime::config::{GatewayConfig, JwtConfig};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use std::sync::{Arc, RwLock};
use std::time::Duration;

const ISSUER: &str = "https://issuer.test/realms/hcp";

/// A signing key: its PKCS#8 document and its JWK.
fn key(kid: &str) -> (Vec<u8>, Value) {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).expect("key");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("pair");
    let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    (pkcs8.as_ref().to_vec(), json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}))
}

fn sign(pkcs8: &[u8], kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(pkcs8)).expect("sign")
}

fn claims(tenant: Option<&str>, roles: &[&str], expires_in: i64) -> Value {
    let now = hcp_runtime::clock::now_micros() / 1_000_000;
    let mut c =
        json!({"iss": ISSUER, "sub": "alice", "aud": "hcp", "exp": now + expires_in, "iat": now, "roles": roles});
    if let Some(t) = tenant {
        c["tenant"] = json!(t);
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_the_issuer_act_for_their_tenant_and_bad_ones_are_refused() {
    let platform = Platform::start().await;
    // The issuer: its key set, served over HTTP.
    let (k1, jwk1) = key("k1");
    let published = Arc::new(RwLock::new(json!({"keys": [jwk1]})));
    let served = Arc::clone(&published);
    let jwks = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let keys = served.read().expect("keys").clone();
            async move { axum::Json(keys) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let issuer_addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, jwks).await });

    let routing = platform.routing_addr;
    let upstreams =
        Upstreams::lazy(|name| Some(if name == "routing" { routing } else { "127.0.0.1:9".parse().expect("addr") }))
            .expect("upstreams");
    let jwt = |url: String| JwtConfig {
        issuer: ISSUER.into(),
        jwks_url: url,
        audience: Some("hcp".into()),
        tenant_claim: "tenant".into(),
        roles_claim: "roles".into(),
        refresh_seconds: 300.0,
    };
    let config = GatewayConfig { jwt: Some(jwt(format!("http://{issuer_addr}/jwks.json"))), ..Default::default() };
    let (gw, _) = hcp_gateway::start(&platform.host, "127.0.0.1:0".parse().expect("addr"), upstreams.clone(), &config)
        .await
        .expect("gateway");
    let spec = json!({"kind": "WORKLOAD_KIND_TRAINING", "gpuModel": "H100", "gpuCount": 1, "memoryMib": "1024", "maxRunTimeSeconds": "600"});

    // A developer of acme submits for acme; a viewer may not; the platform's operator sees hosts.
    let developer = sign(&k1, "k1", &claims(Some("acme"), &["developer"], 300));
    let (status, _, view) = http(gw, "POST", "/v1/workloads", Some(&developer), &[], Some(&spec)).await;
    assert!(status == 201 && view["spec"]["tenant"] == "acme", "{view}");
    let submitted = platform
        .store
        .read_stream(
            &format!("workload-{}", view["workloadId"].as_str().expect("id")),
            1,
            hcp_eventstore::Direction::Forwards,
            1,
        )
        .await
        .expect("read");
    assert_eq!(submitted[0].metadata.actor.as_deref(), Some("user:alice"), "the token's subject is the actor");
    let viewer = sign(&k1, "k1", &claims(Some("acme"), &["viewer"], 300));
    assert_eq!(http(gw, "POST", "/v1/workloads", Some(&viewer), &[], Some(&spec)).await.0, 403);
    assert_eq!(http(gw, "GET", "/v1/workloads", Some(&viewer), &[], None).await.0, 200);
    let operator = sign(&k1, "k1", &claims(None, &["operator"], 300));
    assert_eq!(http(gw, "GET", "/v1/hosts", Some(&operator), &[], None).await.0, 200);
    let overreach = sign(&k1, "k1", &claims(Some("acme"), &["admin"], 300));
    assert_eq!(
        http(gw, "GET", "/v1/hosts", Some(&overreach), &[], None).await.0,
        403,
        "a tenant's token has no platform role"
    );

    // Each person a token was taken for is a user, recorded when first seen and when their claims change.
    let admin = hcp_gateway::keys::create(
        &platform.store,
        None,
        hcp_domain::apikey::Role::Admin,
        "root",
        None,
        &platform.context,
    )
    .await
    .expect("key");
    // (A key recorded beside the gateway reaches its view through the log.)
    let mut answer = http(gw, "GET", "/v1/users", Some(&admin), &[], None).await;
    for _ in 0..100 {
        if answer.0 != 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        answer = http(gw, "GET", "/v1/users", Some(&admin), &[], None).await;
    }
    let (status, _, users) = answer;
    assert_eq!(status, 200, "{users}");
    let alice = &users["users"][0];
    assert!(users["users"].as_array().is_some_and(|u| u.len() == 1) && alice["subject"] == "alice", "{users}");
    let roles = alice["roles"].as_array().map_or(0, Vec::len);
    assert_eq!(
        (alice["issuer"].as_str(), roles),
        (Some(ISSUER), 0),
        "a tenant's token with only a platform role: {users}"
    );
    let stream = format!("user-{}", alice["userId"].as_str().expect("id"));
    let history = platform.store.read_stream(&stream, 1, hcp_eventstore::Direction::Forwards, 100).await.expect("read");
    let kinds: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["user.registered", "user.claims_changed", "user.claims_changed", "user.claims_changed"]);
    http(gw, "GET", "/v1/workloads", Some(&developer), &[], None).await;
    let again = platform.store.read_stream(&stream, 1, hcp_eventstore::Direction::Forwards, 100).await.expect("read");
    assert_eq!(again.len(), 5, "developer again: a change back");
    http(gw, "GET", "/v1/workloads", Some(&developer), &[], None).await;
    let same = platform.store.read_stream(&stream, 1, hcp_eventstore::Direction::Forwards, 100).await.expect("read");
    assert_eq!(same.len(), 5, "the same claims again record nothing");
    assert_eq!(http(gw, "GET", "/v1/users", Some(&developer), &[], None).await.0, 403, "admins only");

    // Refused, each with its reason.
    let refused = |token: String, why: &'static str| async move {
        let (status, _, problem) = http(gw, "GET", "/v1/workloads", Some(&token), &[], None).await;
        assert_eq!(status, 401, "{why}: {problem}");
        assert!(problem["detail"].as_str().is_some_and(|d| d.contains("token")), "{why}: {problem}");
    };
    refused(sign(&k1, "k1", &claims(Some("acme"), &["viewer"], -120)), "expired").await;
    let mut foreign = claims(Some("acme"), &["viewer"], 300);
    foreign["iss"] = json!("https://elsewhere.test");
    refused(sign(&k1, "k1", &foreign), "another issuer").await;
    let mut audience = claims(Some("acme"), &["viewer"], 300);
    audience["aud"] = json!("someone-else");
    refused(sign(&k1, "k1", &audience), "another audience").await;
    let (forger, _) = key("k1");
    refused(sign(&forger, "k1", &claims(Some("acme"), &["admin"], 300)), "signed by another key").await;
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(Some("acme"), &["developer"], 300).to_string());
    refused(format!("{none_header}.{payload}."), "alg none").await;
    let hmac = jsonwebtoken::encode(
        &Header { kid: Some("k1".into()), ..Header::new(Algorithm::HS256) },
        &claims(Some("acme"), &["developer"], 300),
        &EncodingKey::from_secret(jwk_x(&published).as_bytes()),
    )
    .expect("hmac");
    refused(hmac, "HMAC with the public key as the secret").await;
    refused(format!("{}x", &developer[..developer.len() - 1]), "a changed signature").await;

    // The issuer rotates: a token signed by its new key is taken once the keys are fetched again.
    let (k2, jwk2) = key("k2");
    published.write().expect("keys")["keys"].as_array_mut().expect("keys").push(jwk2);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let rotated = sign(&k2, "k2", &claims(Some("acme"), &["viewer"], 300));
    assert_eq!(http(gw, "GET", "/v1/workloads", Some(&rotated), &[], None).await.0, 200, "the new key is fetched");
    refused(sign(&k2, "k3", &claims(Some("acme"), &["viewer"], 300)), "an unpublished kid").await;

    // An issuer that does not answer: 503, not a guess.
    let down = GatewayConfig { jwt: Some(jwt("http://127.0.0.1:9/jwks.json".into())), ..Default::default() };
    let (gw2, _) =
        hcp_gateway::start(&platform.host, "127.0.0.1:0".parse().expect("addr"), upstreams, &down).await.expect("gw");
    let (status, _, problem) = http(gw2, "GET", "/v1/workloads", Some(&developer), &[], None).await;
    assert_eq!(status, 503, "{problem}");
    platform.host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}

fn jwk_x(published: &RwLock<Value>) -> String {
    published.read().expect("keys")["keys"][0]["x"].as_str().unwrap_or_default().to_owned()
}
