//! Simulated GPU hosts: what NVML would report for H100, A100 and L40S boards.

use crate::rng::Rng;
use hcp_domain::catalogue::{GPU_MODELS, GpuModel};

/// One simulated GPU.
#[derive(Debug, Clone, PartialEq)]
pub struct SimGpu {
    /// Index on its host.
    pub index: u32,
    /// NVML-style UUID (`GPU-xxxxxxxx-...`), stable for a host name and index.
    pub uuid: String,
    /// The model.
    pub model: &'static GpuModel,
}

/// A live reading of one GPU.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuTelemetry {
    /// Utilisation, percent.
    pub utilization_pct: u32,
    /// Board power, W.
    pub power_w: u32,
    /// Die temperature, °C.
    pub temp_c: u32,
    /// Memory in use, MiB.
    pub memory_used_mib: u64,
}

/// A simulated GPU host.
#[derive(Debug, Clone)]
pub struct SimGpuHost {
    /// Its host name.
    pub name: String,
    /// Its GPUs.
    pub gpus: Vec<SimGpu>,
    rng: Rng,
}

impl SimGpuHost {
    /// `count` GPUs of one model on a host; UUIDs derive from the name, so a restarted
    /// host reports the same devices.
    pub fn new(name: &str, model: &'static GpuModel, count: u32) -> Self {
        let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        let mut ids = Rng::new(seed);
        let gpus = (0..count)
            .map(|index| {
                let (a, b) = (ids.next_u64(), ids.next_u64());
                let uuid = format!(
                    "GPU-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                    a >> 32,
                    (a >> 16) & 0xffff,
                    a & 0xffff,
                    b >> 48,
                    b & 0xffff_ffff_ffff
                );
                SimGpu { index, uuid, model }
            })
            .collect();
        SimGpuHost { name: name.to_owned(), gpus, rng: Rng::new(seed ^ 1) }
    }

    /// The default GPU fleet: `hosts` hosts of `per_host` GPUs, models in rotation.
    pub fn fleet(hosts: usize, per_host: u32) -> Vec<SimGpuHost> {
        (0..hosts)
            .map(|h| SimGpuHost::new(&format!("gpu-host-{:02}", h + 1), &GPU_MODELS[h % GPU_MODELS.len()], per_host))
            .collect()
    }

    /// A reading of every GPU: idle boards near 10% of their limit, a few percent of
    /// noise.
    pub fn telemetry(&mut self) -> Vec<GpuTelemetry> {
        let rng = &mut self.rng;
        self.gpus
            .iter()
            .map(|g| {
                let util = (rng.unit() * 5.0) as u32;
                GpuTelemetry {
                    utilization_pct: util,
                    power_w: (g.model.power_limit_watts as f64 * (0.1 + 0.009 * util as f64 + rng.jitter(0.01))) as u32,
                    temp_c: (32.0 + rng.jitter(3.0)) as u32,
                    memory_used_mib: 512,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_and_distinct() {
        let a = SimGpuHost::new("gpu-host-01", &GPU_MODELS[0], 8);
        let b = SimGpuHost::new("gpu-host-01", &GPU_MODELS[0], 8);
        assert_eq!(a.gpus, b.gpus);
        let mut uuids: Vec<_> = a.gpus.iter().map(|g| g.uuid.clone()).collect();
        uuids.dedup();
        assert_eq!(uuids.len(), 8);
        assert!(uuids[0].starts_with("GPU-") && uuids[0].len() == 40, "{}", uuids[0]);
    }
}
