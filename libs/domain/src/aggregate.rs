//! The shape every aggregate has: a pure decider.
//!
//! `decide` holds all the logic and returns the events a command produces (or a
//! typed error); `evolve` applies one event and holds none. The state of an
//! aggregate is the fold of its stream: `events.iter().fold(State::default(), evolve)`.

/// A pure decider: no IO, no clock, no randomness.
pub trait Aggregate: Default + Clone + PartialEq + std::fmt::Debug {
    /// What may be asked of it.
    type Command;
    /// What it records.
    type Event: Clone + PartialEq + std::fmt::Debug;
    /// Why a command was refused.
    type Error: std::error::Error + Clone + PartialEq;

    /// The events `command` produces from this state; an empty list means nothing changed.
    fn decide(&self, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    /// The state after `event`.
    fn evolve(self, event: &Self::Event) -> Self;

    /// Folds a history into a state.
    fn fold<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self
    where
        Self::Event: 'a,
    {
        events.into_iter().fold(Self::default(), Self::evolve)
    }
}

/// Applies `event` to the state a projection keeps under `key` (starting from the
/// default state), without cloning the key or hashing twice when it is known.
pub fn evolve_keyed<A: Aggregate>(states: &mut std::collections::HashMap<String, A>, key: &str, event: &A::Event) {
    match states.get_mut(key) {
        Some(state) => *state = std::mem::take(state).evolve(event),
        None => {
            states.insert(key.to_owned(), A::default().evolve(event));
        }
    }
}

/// Given / when / then tests for aggregates, with no IO.
pub mod testing {
    use super::Aggregate;

    /// Starts a test from a history.
    pub fn given<A: Aggregate>(history: impl IntoIterator<Item = A::Event>) -> Given<A> {
        Given { state: history.into_iter().fold(A::default(), |s, e| s.evolve(&e)) }
    }

    /// A state built from a history.
    pub struct Given<A> {
        state: A,
    }

    impl<A: Aggregate> Given<A> {
        /// Decides a command against the state.
        pub fn when(self, command: A::Command) -> Then<A> {
            let result = self.state.decide(command);
            Then { state: self.state, result }
        }
    }

    /// The outcome of a command.
    pub struct Then<A: Aggregate> {
        state: A,
        result: Result<Vec<A::Event>, A::Error>,
    }

    impl<A: Aggregate> Then<A> {
        /// Asserts the command produced exactly these events; returns the state after them.
        #[track_caller]
        pub fn then(self, expected: impl IntoIterator<Item = A::Event>) -> A {
            let expected: Vec<A::Event> = expected.into_iter().collect();
            match self.result {
                Ok(events) => {
                    assert_eq!(events, expected, "unexpected events");
                    events.iter().fold(self.state, |s, e| s.evolve(e))
                }
                Err(e) => panic!("expected events {expected:?}, got error: {e}"),
            }
        }

        /// Asserts the command was refused with this error.
        #[track_caller]
        pub fn then_error(self, expected: A::Error) {
            match self.result {
                Ok(events) => panic!("expected error {expected}, got events {events:?}"),
                Err(e) => assert_eq!(e, expected),
            }
        }
    }
}
