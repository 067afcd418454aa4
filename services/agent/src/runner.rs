//! Running a workload's attempt on this host's GPUs.
//!
//! - [`Process`]: the workload's command as a process, `CUDA_VISIBLE_DEVICES` set to its
//!   GPUs, stdout and stderr appended to `<data>/logs/<workload>.log`; pause and resume
//!   are SIGSTOP and SIGCONT, stop is SIGTERM then SIGKILL after the grace period, and a
//!   run past its maximum run time is stopped and failed (as Slurm's `TIMEOUT`).
//! - [`Simulated`]: runs for the spec's maximum run time at the host's time factor,
//!   reports progress, checkpoints every tenth of its run when it checkpoints, serves its
//!   port's endpoint, and fails on demand when its environment has
//!   `HCP_SIM_FAIL_AFTER_SECONDS`.
//!
//! Either way a run is a task driven by [`Control`] messages that sends [`RunReport`]s.

use hcp_proto::v1 as pb;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What the agent may ask of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Suspend it on its GPUs.
    Pause,
    /// Continue it.
    Resume,
    /// End it; SIGKILL after this grace.
    Stop(Duration),
}

/// One attempt to start.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The workload.
    pub workload: String,
    /// Its attempt.
    pub attempt: u32,
    /// Its spec.
    pub spec: pb::WorkloadSpec,
    /// Indices of its GPUs on this host.
    pub gpu_indices: Vec<u32>,
    /// Run time already saved.
    pub resume_from: Duration,
    /// This host's name (for the endpoint).
    pub host: String,
}

/// How runs are carried out.
#[derive(Debug, Clone)]
pub enum Runner {
    /// Real processes; logs under this directory.
    Process {
        /// Where logs go.
        logs: PathBuf,
    },
    /// Simulated runs at this many simulated seconds per real second.
    Simulated {
        /// The time factor.
        time_factor: f64,
    },
}

impl Runner {
    /// `process` or `simulated`.
    pub fn name(&self) -> &'static str {
        match self {
            Runner::Process { .. } => "process",
            Runner::Simulated { .. } => "simulated",
        }
    }

    /// Where a workload's log is, for a process runner.
    pub fn log_path(&self, workload: &str) -> Option<PathBuf> {
        match self {
            Runner::Process { logs } => Some(logs.join(format!("{workload}.log"))),
            Runner::Simulated { .. } => None,
        }
    }

    /// Runs `launch` until it ends; reports go to `reports`.
    pub async fn run(self, launch: Launch, control: mpsc::Receiver<Control>, reports: mpsc::Sender<pb::RunReport>) {
        let report = Reporter { workload: launch.workload.clone(), attempt: launch.attempt, reports };
        match self {
            Runner::Simulated { time_factor } => simulate(launch, time_factor, control, report).await,
            Runner::Process { logs } => process(launch, logs, control, report).await,
        }
    }
}

/// Sends one run's reports.
struct Reporter {
    workload: String,
    attempt: u32,
    reports: mpsc::Sender<pb::RunReport>,
}

impl Reporter {
    async fn send(&self, state: pb::RunState, detail: impl Into<String>, progress: Duration) {
        let report = pb::RunReport {
            workload_id: self.workload.clone(),
            attempt: self.attempt,
            state: state as i32,
            detail: detail.into(),
            progress_ms: u64::try_from(progress.as_millis()).unwrap_or(u64::MAX),
        };
        let _ = self.reports.send(report).await;
    }
}

fn endpoint(launch: &Launch) -> String {
    if launch.spec.port == 0 { String::new() } else { format!("{}:{}", launch.host, launch.spec.port) }
}

/// A simulated run: progress in simulated time, from its checkpoint.
async fn simulate(launch: Launch, time_factor: f64, mut control: mpsc::Receiver<Control>, report: Reporter) {
    let total = Duration::from_secs(launch.spec.max_run_time_seconds);
    let fail_after = launch
        .spec
        .env
        .get("HCP_SIM_FAIL_AFTER_SECONDS")
        .and_then(|s| s.parse::<f64>().ok())
        .map(Duration::from_secs_f64);
    let checkpoint_every = total / 10;
    let mut progress = launch.resume_from.min(total);
    let mut saved = progress;
    report.send(pb::RunState::Started, endpoint(&launch), progress).await;
    let tick = Duration::from_millis(50);
    let mut paused = false;
    let mut last = Instant::now();
    loop {
        tokio::select! {
            c = control.recv() => match c {
                Some(Control::Pause) if !paused => {
                    paused = true;
                    report.send(pb::RunState::Paused, "", progress).await;
                }
                Some(Control::Resume) if paused => {
                    paused = false;
                    last = Instant::now();
                    report.send(pb::RunState::Resumed, "", progress).await;
                }
                Some(Control::Stop(_)) | None => {
                    report.send(pb::RunState::Stopped, "stopped on request", progress).await;
                    return;
                }
                Some(_) => {}
            },
            () = tokio::time::sleep(tick), if !paused => {
                let now = Instant::now();
                progress += (now - last).mul_f64(time_factor);
                last = now;
                if let Some(at) = fail_after.filter(|at| progress >= *at) {
                    report.send(pb::RunState::Failed, format!("simulated failure after {:.0} s", at.as_secs_f64()), progress).await;
                    return;
                }
                if progress >= total {
                    report.send(pb::RunState::Completed, "", total).await;
                    return;
                }
                if launch.spec.checkpointing && !checkpoint_every.is_zero() && progress >= saved + checkpoint_every {
                    saved = progress;
                    report.send(pb::RunState::Checkpointed, "", saved).await;
                }
            }
        }
    }
}

/// Sends `signal` (a `kill -s` name) to `pid` with the system's `kill`.
async fn signal(pid: u32, signal: &str) {
    let result = tokio::process::Command::new("kill").args(["-s", signal, &pid.to_string()]).status().await;
    if let Err(e) = result {
        tracing::warn!(pid, signal, error = %e, "cannot signal the workload");
    }
}

/// A real process.
async fn process(launch: Launch, logs: PathBuf, mut control: mpsc::Receiver<Control>, report: Reporter) {
    let spec = &launch.spec;
    if !spec.image.is_empty() {
        let reason = format!(
            "image {:?}: this agent runs commands, not container images (no container runtime configured)",
            spec.image
        );
        report.send(pb::RunState::Failed, reason, Duration::ZERO).await;
        return;
    }
    let max = Duration::from_secs(spec.max_run_time_seconds).saturating_sub(launch.resume_from);
    let argv: Vec<String> = if spec.command.is_empty() {
        // A reservation: hold the GPUs for the run time.
        vec!["sleep".to_owned(), max.as_secs().to_string()]
    } else {
        spec.command.clone()
    };
    let log = match open_log(&logs, &launch).await {
        Ok(f) => f,
        Err(e) => {
            report.send(pb::RunState::Failed, format!("cannot open its log: {e}"), Duration::ZERO).await;
            return;
        }
    };
    let devices: Vec<String> = launch.gpu_indices.iter().map(u32::to_string).collect();
    let spawned = tokio::process::Command::new(&argv[0])
        .args(&argv[1..])
        .envs(&spec.env)
        .env("CUDA_VISIBLE_DEVICES", devices.join(","))
        .env("HCP_WORKLOAD_ID", &launch.workload)
        .env("HCP_ATTEMPT", launch.attempt.to_string())
        .env("HCP_RESUME_FROM_SECONDS", launch.resume_from.as_secs().to_string())
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().map(std::process::Stdio::from).unwrap_or_else(|_| std::process::Stdio::null()))
        .stderr(std::process::Stdio::from(log))
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            report.send(pb::RunState::Failed, format!("cannot start {:?}: {e}", argv[0]), Duration::ZERO).await;
            return;
        }
    };
    let pid = child.id().unwrap_or_default();
    report.send(pb::RunState::Started, endpoint(&launch), launch.resume_from).await;
    let started = Instant::now();
    let mut paused_for = Duration::ZERO;
    let mut paused_at: Option<Instant> = None;
    let progress = |paused_for: Duration, paused_at: Option<Instant>| {
        let now = paused_at.unwrap_or_else(Instant::now);
        launch.resume_from + (now - started).saturating_sub(paused_for)
    };
    let mut deadline = Box::pin(tokio::time::sleep(max));
    let outcome = loop {
        tokio::select! {
            status = child.wait() => {
                break match status {
                    Ok(s) if s.success() => (pb::RunState::Completed, String::new()),
                    Ok(s) => (pb::RunState::Failed, format!("exited with {s}")),
                    Err(e) => (pb::RunState::Failed, format!("lost the process: {e}")),
                };
            }
            () = &mut deadline, if paused_at.is_none() => {
                stop(&mut child, pid, Duration::from_secs(10)).await;
                if spec.command.is_empty() {
                    // A reservation ends, done, when its time is up.
                    break (pb::RunState::Completed, String::new());
                }
                break (pb::RunState::Failed, format!("exceeded its maximum run time of {} s", spec.max_run_time_seconds));
            }
            c = control.recv() => match c {
                Some(Control::Pause) if paused_at.is_none() => {
                    signal(pid, "STOP").await;
                    paused_at = Some(Instant::now());
                    report.send(pb::RunState::Paused, "", progress(paused_for, paused_at)).await;
                }
                Some(Control::Resume) => if let Some(at) = paused_at.take() {
                    signal(pid, "CONT").await;
                    paused_for += at.elapsed();
                    let left = max.saturating_sub(progress(paused_for, None) - launch.resume_from);
                    deadline.as_mut().reset(Instant::now() + left);
                    report.send(pb::RunState::Resumed, "", progress(paused_for, None)).await;
                }
                stop_request @ (Some(Control::Stop(_)) | None) => {
                    let grace = match stop_request {
                        Some(Control::Stop(grace)) => grace,
                        _ => Duration::ZERO,
                    };
                    if paused_at.is_some() {
                        signal(pid, "CONT").await;
                    }
                    stop(&mut child, pid, grace.max(Duration::from_millis(1))).await;
                    break (pb::RunState::Stopped, "stopped on request".to_owned());
                }
                Some(Control::Pause) => {}
            }
        }
    };
    report.send(outcome.0, outcome.1, progress(paused_for, paused_at)).await;
}

/// SIGTERM, then SIGKILL when it has not exited within `grace`.
async fn stop(child: &mut tokio::process::Child, pid: u32, grace: Duration) {
    signal(pid, "TERM").await;
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
}

async fn open_log(dir: &std::path::Path, launch: &Launch) -> std::io::Result<std::fs::File> {
    tokio::fs::create_dir_all(dir).await?;
    let path = dir.join(format!("{}.log", launch.workload));
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    use std::io::Write;
    writeln!(file, "--- attempt {} (from {} s) ---", launch.attempt, launch.resume_from.as_secs())?;
    Ok(file)
}
