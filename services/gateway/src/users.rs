//! Users: the people who sign in through the OpenID Connect issuer, as an event-sourced
//! aggregate (`user-<id>`). The first time one of their tokens is taken, and whenever the
//! tenant or roles the issuer vouches for change, the gateway records it; admins list
//! them at `/v1/users`. The issuer stays the authority on who may do what.

use crate::folded::ById;
use crate::forward::json_of;
use crate::problem::Problem;
use crate::state::Gateway;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcp_domain::apikey::Role;
use hcp_domain::ids::TenantId;
use hcp_domain::units::Timestamp;
use hcp_domain::user::{User, UserCommand, user_id};
use hcp_proto::v1 as pb;
use std::sync::Arc;

/// Every user, by id.
pub type Users = ById<User>;

impl ById<User> {
    /// Whether `id` is known with these claims.
    fn knows(&self, id: &str, tenant: &Option<TenantId>, roles: &[Role]) -> bool {
        self.read().get(id).is_some_and(|u| &u.tenant == tenant && u.roles == roles)
    }
}

/// Records that `subject` of `issuer` was let in with these claims, unless that is known.
/// A failure to record is logged: the request itself goes on (the issuer vouched).
pub async fn seen(g: &Gateway, issuer: &str, subject: &str, tenant: &Option<TenantId>, roles: &[Role]) {
    let id = user_id(issuer, subject);
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    if g.users.knows(&id, tenant, &roles) {
        return;
    }
    let command = UserCommand::Seen {
        issuer: issuer.to_owned(),
        subject: subject.to_owned(),
        tenant: tenant.clone(),
        roles,
        at: Timestamp::from_unix_micros(hcp_runtime::clock::now_micros()),
    };
    let context = hcp_runtime::EventContext::new(format!("user:{subject}"));
    match g.userstore.execute(&id, command, &context).await {
        Ok(user) => g.users.keep(&id, user),
        Err(e) => tracing::warn!(user = %id, error = %e.detail, "cannot record a user"),
    }
}

/// `GET /v1/users` (admins): every user a token has been taken for.
pub async fn list(State(g): State<Arc<Gateway>>) -> Result<Response, Problem> {
    let users = g.users.read();
    let mut views: Vec<pb::UserView> = users
        .iter()
        .filter(|(_, u)| u.issuer.is_some())
        .map(|(id, u)| pb::UserView {
            user_id: id.clone(),
            issuer: u.issuer.clone().unwrap_or_default(),
            subject: u.subject.clone(),
            tenant_id: u.tenant.as_ref().map(|t| t.as_str().to_owned()).unwrap_or_default(),
            roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            first_seen_unix_micros: u.first_seen.unix_micros(),
            changed_unix_micros: u.changed_at.unix_micros(),
        })
        .collect();
    views.sort_by(|a, b| (&a.issuer, &a.subject).cmp(&(&b.issuer, &b.subject)));
    Ok(json_of(StatusCode::OK, "hcp.v1.ListUsersResponse", &pb::ListUsersResponse { users: views }))
}
