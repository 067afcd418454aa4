//! The names of miner control's events, shared by their writer (execution) and their
//! readers (optimization plans around miners it cannot move or must not).

/// The prefix of the streams execution records miner commands on (`control-<resource id>`).
pub const CONTROL_PREFIX: &str = "control-";
/// A command sent to a miner (`MinerCommanded`).
pub const MINER_COMMANDED: &str = "miner.commanded";
/// A miner seen doing what it was told (`MinerConfirmed`).
pub const MINER_CONFIRMED: &str = "miner.confirmed";
/// A miner that did not, within its tries (`MinerCommandFailed`).
pub const MINER_COMMAND_FAILED: &str = "miner.command_failed";
/// A miner taken out of plans and commands, or put back (`MinerMaintenance`).
pub const MINER_MAINTENANCE: &str = "miner.maintenance";
/// The prefix of the streams of operators' curtailments (`curtailment-<site>`).
pub const CURTAILMENT_PREFIX: &str = "curtailment-";
/// An operator's curtailment (`Curtailment`).
pub const CURTAILMENT_STARTED: &str = "curtailment.started";
/// A curtailment lifted, by an operator or because its time passed (`CurtailmentLifted`).
pub const CURTAILMENT_LIFTED: &str = "curtailment.lifted";
