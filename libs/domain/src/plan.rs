//! The names of a site's plan events, shared by their writer (optimization) and their
//! readers (execution moves miners to a plan's targets).

/// The event type of a plan (`AllocationPlanned`).
pub const ALLOCATION_PLANNED: &str = "allocation.planned";
/// The event type of a plan's targets (`AllocationTargeted`): the mode each changed device should be in.
pub const ALLOCATION_TARGETED: &str = "allocation.targeted";

/// The stream of a site's plans.
pub fn plans_stream(site: &str) -> String {
    format!("plans-{site}")
}
