//! The conformance suite, run against every backend. Test names carry the
//! backend: `conformance::sqlite::...`, `conformance::jetstream::...`.
//!
//! The JetStream tests need a server at `NATS_URL` (default
//! `nats://127.0.0.1:4222`) and fail, never skip, when it is not there.

#[path = "conformance/harness.rs"]
mod harness;
#[path = "conformance/suite.rs"]
mod suite;

macro_rules! conformance {
    ($backend:ident, $harness:ty) => {
        mod $backend {
            use crate::harness::{Harness, run};
            use crate::suite;

            macro_rules! case {
                ($name:ident) => {
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        run::<$harness, _>(|h| Box::pin(suite::$name(h))).await;
                    }
                };
            }

            case!(append_then_read_the_stream_both_ways);
            case!(expected_version_is_enforced_with_the_actual_version_in_the_conflict);
            case!(many_tasks_appending_to_one_stream_each_version_won_exactly_once);
            case!(retrying_an_append_returns_the_original_positions_and_writes_nothing);
            case!(the_global_log_is_totally_ordered_across_streams);
            case!(subscription_catches_up_then_goes_live_without_gap_or_repeat);
            case!(subscriber_restarted_from_its_checkpoint_sees_every_event_exactly_once);
            case!(batched_subscription_over_many_pages_sees_every_event_once_in_order);
            case!(old_schema_versions_are_upcast_on_read);
            case!(bad_input_is_refused_and_nothing_is_written);
            case!(checkpoints_are_durable_and_validated);
            case!(sigkill_in_the_middle_of_batched_appends_leaves_whole_batches_only);
            case!(a_workload_history_round_trips_through_the_store);

            #[test]
            fn backend_is_named() {
                assert_eq!(<$harness as Harness>::NAME, stringify!($backend));
            }
        }
    };
}

mod conformance {
    conformance!(sqlite, crate::harness::SqliteHarness);
    conformance!(jetstream, crate::harness::JetStreamHarness);
}
