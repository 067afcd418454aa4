//! Where GPUs come from: NVML on a real host (feature `nvml`), or a simulated host.

use hcp_proto::v1 as pb;
use hcp_sim::gpu::SimGpuHost;

/// Why the GPUs could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{backend}: {reason}")]
pub struct BackendError {
    /// Which backend.
    pub backend: &'static str,
    /// What went wrong.
    pub reason: String,
}

/// A source of GPUs and their readings.
pub trait GpuBackend: Send {
    /// `nvml` or `simulated`.
    fn name(&self) -> &'static str;
    /// The GPUs on this host.
    fn gpus(&mut self) -> Result<Vec<pb::AgentGpu>, BackendError>;
    /// A reading of each GPU.
    fn readings(&mut self) -> Result<Vec<pb::GpuReading>, BackendError>;
}

/// A simulated host.
pub struct Simulated(pub SimGpuHost);

impl GpuBackend for Simulated {
    fn name(&self) -> &'static str {
        "simulated"
    }

    fn gpus(&mut self) -> Result<Vec<pb::AgentGpu>, BackendError> {
        Ok(self
            .0
            .gpus
            .iter()
            .map(|g| pb::AgentGpu {
                index: g.index,
                uuid: g.uuid.clone(),
                model: g.model.name.to_owned(),
                memory_mib: g.model.memory_mib,
                power_limit_w: g.model.power_limit_watts,
            })
            .collect())
    }

    fn readings(&mut self) -> Result<Vec<pb::GpuReading>, BackendError> {
        let uuids: Vec<String> = self.0.gpus.iter().map(|g| g.uuid.clone()).collect();
        Ok(uuids
            .into_iter()
            .zip(self.0.telemetry())
            .map(|(uuid, t)| pb::GpuReading {
                uuid,
                utilization_pct: t.utilization_pct,
                power_w: t.power_w,
                temp_c: t.temp_c,
                memory_used_mib: t.memory_used_mib,
            })
            .collect())
    }
}

/// Real GPUs through NVML.
#[cfg(feature = "nvml")]
pub mod nvml {
    use super::{BackendError, GpuBackend};
    use hcp_proto::v1 as pb;
    use nvml_wrapper::Nvml;
    use nvml_wrapper::enum_wrappers::device::TemperatureSensor;

    /// NVML, initialised once.
    pub struct NvmlBackend(Nvml);

    fn err(e: impl std::fmt::Display) -> BackendError {
        BackendError { backend: "nvml", reason: e.to_string() }
    }

    impl NvmlBackend {
        /// Loads libnvidia-ml and initialises it.
        pub fn init() -> Result<Self, BackendError> {
            Nvml::init().map(NvmlBackend).map_err(err)
        }
    }

    impl GpuBackend for NvmlBackend {
        fn name(&self) -> &'static str {
            "nvml"
        }

        fn gpus(&mut self) -> Result<Vec<pb::AgentGpu>, BackendError> {
            let count = self.0.device_count().map_err(err)?;
            (0..count)
                .map(|i| {
                    let d = self.0.device_by_index(i).map_err(err)?;
                    Ok(pb::AgentGpu {
                        index: i,
                        uuid: d.uuid().map_err(err)?,
                        model: d.name().map_err(err)?,
                        memory_mib: d.memory_info().map_err(err)?.total / (1024 * 1024),
                        power_limit_w: u64::from(d.enforced_power_limit().map_err(err)? / 1000),
                    })
                })
                .collect()
        }

        fn readings(&mut self) -> Result<Vec<pb::GpuReading>, BackendError> {
            let count = self.0.device_count().map_err(err)?;
            (0..count)
                .map(|i| {
                    let d = self.0.device_by_index(i).map_err(err)?;
                    Ok(pb::GpuReading {
                        uuid: d.uuid().map_err(err)?,
                        utilization_pct: d.utilization_rates().map_err(err)?.gpu,
                        power_w: d.power_usage().map_err(err)? / 1000,
                        temp_c: d.temperature(TemperatureSensor::Gpu).map_err(err)?,
                        memory_used_mib: d.memory_info().map_err(err)?.used / (1024 * 1024),
                    })
                })
                .collect()
        }
    }
}
