//! The user aggregate: a person who signs in through the platform's OpenID Connect issuer
//! (issue 13), known by the issuer and the token's subject. The gateway records a user the
//! first time one of their tokens is taken, and again when the tenant or roles the
//! issuer vouches for change, so an admin can see who has used the platform, for which
//! tenant and in which roles, and when that changed. The issuer stays the authority:
//! nothing here grants access. Its stream is `user-<id>`, the id a digest of issuer and
//! subject (subjects may hold any character).

use crate::Aggregate;
use crate::apikey::Role;
use crate::ids::TenantId;
use crate::units::Timestamp;

/// A user's state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct User {
    /// The issuer that vouches for them, once seen.
    pub issuer: Option<String>,
    /// Their subject at that issuer.
    pub subject: String,
    /// The tenant their tokens act for (none: the platform's people).
    pub tenant: Option<TenantId>,
    /// The roles their tokens carry.
    pub roles: Vec<Role>,
    /// When a token of theirs was first taken.
    pub first_seen: Timestamp,
    /// When their tenant or roles last changed.
    pub changed_at: Timestamp,
    /// How many events it has.
    pub version: u64,
}

/// What may be asked of a user.
#[derive(Debug, Clone, PartialEq)]
pub enum UserCommand {
    /// A token of theirs was taken, with these claims.
    Seen {
        /// The issuer.
        issuer: String,
        /// The subject.
        subject: String,
        /// The tenant its claims name.
        tenant: Option<TenantId>,
        /// The roles its claims carry.
        roles: Vec<Role>,
        /// When.
        at: Timestamp,
    },
}

/// What a user records.
#[derive(Debug, Clone, PartialEq)]
pub enum UserEvent {
    /// First seen.
    Registered {
        /// The issuer.
        issuer: String,
        /// The subject.
        subject: String,
        /// The tenant.
        tenant: Option<TenantId>,
        /// The roles.
        roles: Vec<Role>,
        /// When.
        at: Timestamp,
    },
    /// Seen with another tenant or other roles.
    ClaimsChanged {
        /// The tenant now.
        tenant: Option<TenantId>,
        /// The roles now.
        roles: Vec<Role>,
        /// When.
        at: Timestamp,
    },
}

impl UserEvent {
    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            UserEvent::Registered { at, .. } | UserEvent::ClaimsChanged { at, .. } => *at,
        }
    }

    /// Its type name.
    pub fn event_type(&self) -> &'static str {
        match self {
            UserEvent::Registered { .. } => "user.registered",
            UserEvent::ClaimsChanged { .. } => "user.claims_changed",
        }
    }
}

/// Why a user command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    /// No issuer or subject.
    #[error("sub: a user needs an issuer and a subject")]
    Anonymous,
    /// Another issuer's subject under this id.
    #[error("iss: this user is {0}'s")]
    OtherIssuer(String),
}

/// The roles in a stable order, without repeats.
fn normal(mut roles: Vec<Role>) -> Vec<Role> {
    roles.sort();
    roles.dedup();
    roles
}

impl Aggregate for User {
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = UserError;

    fn decide(&self, command: UserCommand) -> Result<Vec<UserEvent>, UserError> {
        let UserCommand::Seen { issuer, subject, tenant, roles, at } = command;
        if issuer.is_empty() || subject.is_empty() {
            return Err(UserError::Anonymous);
        }
        let roles = normal(roles);
        match &self.issuer {
            None => Ok(vec![UserEvent::Registered { issuer, subject, tenant, roles, at }]),
            Some(known) if *known != issuer || self.subject != subject => Err(UserError::OtherIssuer(known.clone())),
            Some(_) if self.tenant == tenant && self.roles == roles => Ok(Vec::new()),
            Some(_) => Ok(vec![UserEvent::ClaimsChanged { tenant, roles, at }]),
        }
    }

    fn evolve(mut self, event: &UserEvent) -> User {
        match event {
            UserEvent::Registered { issuer, subject, tenant, roles, at } => {
                self.issuer = Some(issuer.clone());
                self.subject.clone_from(subject);
                self.tenant.clone_from(tenant);
                self.roles.clone_from(roles);
                self.first_seen = *at;
                self.changed_at = *at;
            }
            UserEvent::ClaimsChanged { tenant, roles, at } => {
                self.tenant.clone_from(tenant);
                self.roles.clone_from(roles);
                self.changed_at = *at;
            }
        }
        self.version += 1;
        self
    }
}

/// The user id of `subject` at `issuer`: 16 hex digits of a stable 64-bit digest
/// (FNV-1a), fit for a stream name whatever the subject holds.
pub fn user_id(issuer: &str, subject: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in issuer.bytes().chain([0u8]).chain(subject.bytes()) {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(tenant: Option<&str>, roles: &[Role], secs: i64) -> UserCommand {
        UserCommand::Seen {
            issuer: "https://id.example/realms/hcp".into(),
            subject: "alice".into(),
            tenant: tenant.map(|t| TenantId::new(t).expect("tenant")),
            roles: roles.to_vec(),
            at: Timestamp::from_unix_secs(secs),
        }
    }

    fn given(events: &[UserEvent]) -> User {
        events.iter().fold(User::default(), |u, e| u.evolve(e))
    }

    #[test]
    fn first_seen_then_only_changes_are_recorded() {
        let first = User::default().decide(seen(Some("acme"), &[Role::Viewer, Role::Developer, Role::Viewer], 1));
        let first = first.expect("registered");
        assert!(
            matches!(&first[..], [UserEvent::Registered { roles, .. }] if roles == &[Role::Viewer, Role::Developer])
        );
        let user = given(&first);
        assert_eq!(user.decide(seen(Some("acme"), &[Role::Developer, Role::Viewer], 2)), Ok(Vec::new()), "the same");
        let changed = user.decide(seen(Some("acme"), &[Role::Viewer], 3)).expect("changed");
        assert!(matches!(&changed[..], [UserEvent::ClaimsChanged { .. }]));
        let user = given(&[first, changed].concat());
        assert_eq!(
            (user.roles.clone(), user.first_seen, user.changed_at, user.version),
            (vec![Role::Viewer], Timestamp::from_unix_secs(1), Timestamp::from_unix_secs(3), 2)
        );
    }

    #[test]
    fn no_subject_or_another_issuer_is_refused() {
        let mut anonymous = seen(None, &[Role::Admin], 1);
        let UserCommand::Seen { subject, .. } = &mut anonymous;
        subject.clear();
        assert_eq!(User::default().decide(anonymous), Err(UserError::Anonymous));
        let user = given(&User::default().decide(seen(None, &[Role::Admin], 1)).expect("seen"));
        let mut elsewhere = seen(None, &[Role::Admin], 2);
        let UserCommand::Seen { issuer, .. } = &mut elsewhere;
        *issuer = "https://other.example".into();
        assert!(matches!(user.decide(elsewhere), Err(UserError::OtherIssuer(_))));
        assert_ne!(user_id("a", "bc"), user_id("ab", "c"), "issuer and subject are kept apart");
        assert_eq!(user_id("i", "s").len(), 16);
    }
}
