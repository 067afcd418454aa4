//! Value types that make wrong units impossible.
//!
//! Every quantity is an integer in a named unit: money in micro-dollars, power in
//! watts, energy in milliwatt-hours, hashrate in hashes per second, electricity
//! prices in micro-dollars per MWh, instants in microseconds since the Unix epoch.
//! Arithmetic across units only exists where physics allows it (power x time =
//! energy, energy x price = money), and it rounds in one documented place.

mod energy;
mod hashrate;
mod money;
mod power;
mod price;
mod time;

pub use energy::Energy;
pub use hashrate::Hashrate;
pub use money::Money;
pub use power::Power;
pub use price::EnergyPrice;
pub use time::Timestamp;
