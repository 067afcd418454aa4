//! Real hardware: the models HCP knows, with their makers' stock specifications.
//!
//! Discovery looks a reported model up here to record its nominal hashrate, power and
//! efficiency; the simulator builds its fleet from the same table, so that what it serves
//! is what a real device of that model would report.

use crate::units::{Hashrate, Power};

/// A Bitcoin-mining ASIC model at stock settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsicModel {
    /// The model as the firmware reports it in `Type` (e.g. `Antminer S21`).
    pub name: &'static str,
    /// Stock hashrate in TH/s.
    pub terahashes: u64,
    /// Stock wall power in watts.
    pub watts: u64,
    /// Hashboards (chains) in the unit.
    pub boards: u8,
    /// Fans in the unit.
    pub fans: u8,
    /// The maker's firmware family, which decides the API dialect it speaks.
    pub maker: Maker,
}

/// Who made a miner, which decides the stock firmware's API dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Maker {
    /// Bitmain Antminer (stock firmware: bmminer/cgminer API).
    Bitmain,
    /// MicroBT Whatsminer (btminer API).
    MicroBt,
}

impl AsicModel {
    /// Stock hashrate.
    pub const fn nominal_hashrate(&self) -> Hashrate {
        Hashrate::from_terahashes(self.terahashes)
    }

    /// Stock wall power.
    pub const fn nominal_power(&self) -> Power {
        Power::from_watts(self.watts)
    }

    /// Joules per terahash at stock settings.
    pub fn efficiency(&self) -> f64 {
        self.watts as f64 / self.terahashes as f64
    }
}

/// The ASIC models HCP knows (makers' published stock figures).
pub const ASIC_MODELS: &[AsicModel] = &[
    AsicModel { name: "Antminer S21", terahashes: 200, watts: 3500, boards: 3, fans: 4, maker: Maker::Bitmain },
    AsicModel { name: "Antminer S21 Pro", terahashes: 234, watts: 3510, boards: 3, fans: 4, maker: Maker::Bitmain },
    AsicModel { name: "Antminer S21 XP", terahashes: 270, watts: 3645, boards: 3, fans: 4, maker: Maker::Bitmain },
    AsicModel { name: "Antminer S19 XP", terahashes: 141, watts: 3010, boards: 3, fans: 4, maker: Maker::Bitmain },
    AsicModel { name: "Antminer S19j Pro", terahashes: 104, watts: 3068, boards: 3, fans: 4, maker: Maker::Bitmain },
    AsicModel { name: "Antminer S19", terahashes: 95, watts: 3250, boards: 3, fans: 4, maker: Maker::Bitmain },
    AsicModel { name: "Whatsminer M60S", terahashes: 186, watts: 3441, boards: 3, fans: 2, maker: Maker::MicroBt },
    AsicModel { name: "Whatsminer M50S", terahashes: 126, watts: 3276, boards: 3, fans: 2, maker: Maker::MicroBt },
    AsicModel { name: "Whatsminer M30S++", terahashes: 112, watts: 3472, boards: 3, fans: 2, maker: Maker::MicroBt },
];

/// A data-centre GPU model at stock settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuModel {
    /// Its one canonical id, what workloads and the scheduler use (e.g. `h100-sxm-80gb`).
    pub id: &'static str,
    /// The model as NVML reports it (e.g. `NVIDIA H100 80GB HBM3`).
    pub name: &'static str,
    /// Other names users know it by (`H100`, `H100-SXM`).
    pub aliases: &'static [&'static str],
    /// Device memory in MiB.
    pub memory_mib: u64,
    /// Default board power limit in watts.
    pub power_limit_watts: u64,
}

/// The GPU models HCP knows (NVML names, NVIDIA's published memory and TDP).
pub const GPU_MODELS: &[GpuModel] = &[
    GpuModel {
        id: "h100-sxm-80gb",
        name: "NVIDIA H100 80GB HBM3",
        aliases: &["H100", "H100-SXM", "H100-80GB", "H100-SXM5-80GB"],
        memory_mib: 81_559,
        power_limit_watts: 700,
    },
    GpuModel {
        id: "a100-sxm4-80gb",
        name: "NVIDIA A100-SXM4-80GB",
        aliases: &["A100", "A100-80GB", "A100-SXM"],
        memory_mib: 81_920,
        power_limit_watts: 400,
    },
    GpuModel { id: "l40s-48gb", name: "NVIDIA L40S", aliases: &["L40S"], memory_mib: 46_068, power_limit_watts: 350 },
];

/// Finds an ASIC model by the name its firmware reports, ignoring case, surrounding
/// space and a leading maker word the firmware may or may not include
/// (`Antminer S21`, `S21`, `antminer s21 `).
pub fn asic_model(reported: &str) -> Option<&'static AsicModel> {
    let wanted = reported.trim();
    ASIC_MODELS.iter().find(|m| {
        m.name.eq_ignore_ascii_case(wanted)
            || m.name.split_once(' ').is_some_and(|(_, short)| short.eq_ignore_ascii_case(wanted))
    })
}

/// Finds a GPU model by its canonical id, its NVML name or an alias, ignoring case and
/// surrounding space (`h100-sxm-80gb`, `NVIDIA H100 80GB HBM3`, `H100`).
pub fn gpu_model(reported: &str) -> Option<&'static GpuModel> {
    let wanted = reported.trim();
    GPU_MODELS.iter().find(|m| {
        m.id.eq_ignore_ascii_case(wanted)
            || m.name.eq_ignore_ascii_case(wanted)
            || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(wanted))
    })
}

/// The canonical id of a GPU model as anyone names it; a model the catalogue does not
/// know is its own id (lower case, spaces as dashes), so that it can still be matched.
pub fn canonical_gpu_model(reported: &str) -> String {
    gpu_model(reported).map_or_else(|| reported.trim().to_ascii_lowercase().replace(' ', "-"), |m| m.id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn efficiencies_match_the_makers_figures() {
        let s21 = asic_model("Antminer S21").expect("S21");
        assert_eq!(s21.efficiency(), 17.5);
        let s19jpro = asic_model("s19j pro").expect("short name");
        assert!((s19jpro.efficiency() - 29.5).abs() < 0.01, "{}", s19jpro.efficiency());
        assert_eq!(asic_model("Whatsminer M60S ").map(|m| m.maker), Some(Maker::MicroBt));
        assert_eq!(asic_model("Antminer S9"), None);
    }

    #[test]
    fn gpus_by_nvml_name() {
        assert_eq!(gpu_model("nvidia h100 80gb hbm3").map(|g| g.power_limit_watts), Some(700));
        assert_eq!(gpu_model("GeForce GTX 1080"), None);
        assert_eq!(canonical_gpu_model("H100"), "h100-sxm-80gb");
        assert_eq!(canonical_gpu_model("NVIDIA H100 80GB HBM3"), "h100-sxm-80gb");
        assert_eq!(canonical_gpu_model(" h100-SXM-80GB"), "h100-sxm-80gb");
        assert_eq!(canonical_gpu_model("Tesla T4"), "tesla-t4");
    }
}
