//! The agent's side of execution: it dials execution (so agents behind a site's NAT
//! work), enrols with its token, and keeps one stream open on which execution sends
//! start, stop, pause, resume and log queries, and the agent sends each run's reports.
//! On a reconnect it enrols again with what it runs, so a restarted execution can
//! reconcile.
//!
//! A start is taken once: every accepted (workload, attempt) is appended to the agent's
//! journal (`starts.jsonl`) before the run begins, and a start the journal already holds
//! is answered with the run's state, never started again: the journal is the witness
//! that nothing ran twice.

use crate::runner::{Control, Launch, Runner};
use hcp_proto::v1 as pb;
use hcp_proto::v1::execution_client::ExecutionClient;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};

/// Who this agent is to execution.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// Execution's gRPC address, e.g. `http://127.0.0.1:50055`.
    pub execution: String,
    /// The enrolment token an operator issued.
    pub token: String,
    /// This host's name.
    pub host: String,
    /// Its GPUs: NVML UUID and index.
    pub gpus: Vec<(String, u32)>,
    /// Where the journal (and a process runner's logs) live.
    pub data_dir: PathBuf,
    /// How runs are carried out.
    pub runner: Runner,
}

/// A run on this agent.
struct Run {
    attempt: u32,
    control: Option<mpsc::Sender<Control>>,
    last: pb::RunReport,
}

#[derive(Default)]
struct State {
    runs: HashMap<String, Run>,
    journal: HashSet<(String, u32)>,
}

const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs until the task is dropped; ends with an error when execution refuses the
/// enrolment (a wrong token cannot become right by retrying).
pub async fn run(config: ExecutorConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let journal_path = config.data_dir.join("starts.jsonl");
    let state = Arc::new(Mutex::new(State { journal: read_journal(&journal_path)?, ..State::default() }));
    let (reports_tx, mut reports_rx) = mpsc::channel::<pb::RunReport>(1024);
    let mut backoff = Duration::from_millis(100);
    loop {
        let (out_tx, out_rx) = mpsc::channel::<pb::AgentMessage>(1024);
        let running: Vec<pb::RunReport> = state.lock().await.runs.values().map(|r| r.last.clone()).collect();
        let enrol = pb::Enrol {
            token: config.token.clone(),
            host: config.host.clone(),
            gpu_uuids: config.gpus.iter().map(|(u, _)| u.clone()).collect(),
            running,
            runner: config.runner.name().to_owned(),
        };
        out_tx.send(pb::AgentMessage { message: Some(pb::agent_message::Message::Enrol(enrol)) }).await?;
        let connected = async {
            let channel = hcp_proto::client::connect(&config.execution)
                .await
                .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
            let mut client = ExecutionClient::new(channel);
            client.attach(tokio_stream::wrappers::ReceiverStream::new(out_rx)).await
        };
        let mut inbound = match connected.await {
            Ok(r) => r.into_inner(),
            Err(status)
                if status.code() == tonic::Code::Unauthenticated || status.code() == tonic::Code::InvalidArgument =>
            {
                anyhow::bail!("execution refused the enrolment ({:?}): {}", status.code(), status.message())
            }
            Err(status) => {
                tracing::warn!(host = %config.host, error = %status, "cannot reach execution; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        loop {
            tokio::select! {
                message = inbound.message() => match message {
                    Ok(Some(command)) => {
                        backoff = Duration::from_millis(100);
                        handle(&config, &state, &journal_path, command, &reports_tx, &out_tx).await;
                    }
                    Ok(None) => break,
                    Err(status) if status.code() == tonic::Code::Unauthenticated || status.code() == tonic::Code::InvalidArgument => {
                        anyhow::bail!("execution refused the enrolment ({:?}): {}", status.code(), status.message())
                    }
                    Err(status) => {
                        tracing::warn!(host = %config.host, error = %status, "execution stream broke");
                        break;
                    }
                },
                Some(report) = reports_rx.recv() => {
                    record(&state, &report).await;
                    let message = pb::AgentMessage { message: Some(pb::agent_message::Message::Report(report)) };
                    if out_tx.send(message).await.is_err() {
                        break;
                    }
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Keeps a run's last report; a run that ended is forgotten (its journal line stays).
async fn record(state: &Mutex<State>, report: &pb::RunReport) {
    let mut state = state.lock().await;
    let ended = matches!(
        pb::RunState::try_from(report.state),
        Ok(pb::RunState::Completed | pb::RunState::Failed | pb::RunState::Stopped)
    );
    if let Some(run) = state.runs.get_mut(&report.workload_id).filter(|r| r.attempt == report.attempt) {
        run.last = report.clone();
        if ended {
            run.control = None;
        }
    }
}

async fn handle(
    config: &ExecutorConfig,
    state: &Arc<Mutex<State>>,
    journal: &std::path::Path,
    command: pb::AgentCommand,
    reports: &mpsc::Sender<pb::RunReport>,
    out: &mpsc::Sender<pb::AgentMessage>,
) {
    use pb::agent_command::Command as C;
    match command.command {
        Some(C::Enrolled(_)) => tracing::info!(host = %config.host, "enrolled with execution"),
        Some(C::Start(start)) => {
            let received = hcp_runtime::clock::now_micros();
            start_run(config, state, journal, start, received, reports).await;
        }
        Some(C::Stop(s)) => {
            control(state, &s.workload_id, s.attempt, Control::Stop(Duration::from_secs(u64::from(s.grace_seconds))))
                .await
        }
        Some(C::Pause(p)) => control(state, &p.workload_id, p.attempt, Control::Pause).await,
        Some(C::Resume(r)) => control(state, &r.workload_id, r.attempt, Control::Resume).await,
        Some(C::Logs(q)) => {
            // Only the agent that ran it answers.
            let ran = state.lock().await.journal.iter().any(|(w, _)| *w == q.workload_id);
            let (text, found) =
                if ran { read_log(&config.runner, &q.workload_id, q.max_bytes).await } else { (String::new(), false) };
            let reply = pb::LogsReply { request: q.request, text, found };
            let _ = out.send(pb::AgentMessage { message: Some(pb::agent_message::Message::Logs(reply)) }).await;
        }
        None => {}
    }
}

async fn control(state: &Mutex<State>, workload: &str, attempt: u32, c: Control) {
    let sender = state.lock().await.runs.get(workload).filter(|r| r.attempt == attempt).and_then(|r| r.control.clone());
    if let Some(tx) = sender {
        let _ = tx.send(c).await;
    }
}

async fn start_run(
    config: &ExecutorConfig,
    state: &Arc<Mutex<State>>,
    journal: &std::path::Path,
    start: pb::StartRun,
    received_micros: i64,
    reports: &mpsc::Sender<pb::RunReport>,
) {
    let key = (start.workload_id.clone(), start.attempt);
    let mut guard = state.lock().await;
    if guard.journal.contains(&key) {
        // Taken before: answer with what became of it, never start it again.
        let last = match guard.runs.get(&start.workload_id).filter(|r| r.attempt == start.attempt) {
            Some(run) => run.last.clone(),
            None => pb::RunReport {
                workload_id: start.workload_id.clone(),
                attempt: start.attempt,
                state: pb::RunState::Lost as i32,
                detail: format!("the agent on {} restarted during this run", config.host),
                progress_ms: 0,
            },
        };
        drop(guard);
        let _ = reports.send(last).await;
        return;
    }
    let dispatch_micros = received_micros - start.scheduled_unix_micros;
    let line = format!(
        "{{\"workload\":\"{}\",\"attempt\":{},\"received_unix_micros\":{received_micros},\"dispatch_micros\":{dispatch_micros}}}\n",
        start.workload_id, start.attempt
    );
    if let Err(e) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(journal)
        .and_then(|mut f| f.write_all(line.as_bytes()))
    {
        // Without its journal line a run could be started twice: refuse it.
        tracing::error!(error = %e, "cannot write the start journal");
        return;
    }
    guard.journal.insert(key);
    let index_of: HashMap<&str, u32> = config.gpus.iter().map(|(u, i)| (u.as_str(), *i)).collect();
    let mut gpu_indices: Vec<u32> = start.gpu_uuids.iter().filter_map(|u| index_of.get(u.as_str()).copied()).collect();
    gpu_indices.sort_unstable();
    let Some(spec) = start.spec else { return };
    let launch = Launch {
        workload: start.workload_id.clone(),
        attempt: start.attempt,
        spec,
        gpu_indices,
        resume_from: Duration::from_millis(start.resume_from_ms),
        host: config.host.clone(),
    };
    let (tx, rx) = mpsc::channel(8);
    let first =
        pb::RunReport { workload_id: start.workload_id.clone(), attempt: start.attempt, ..pb::RunReport::default() };
    guard.runs.insert(start.workload_id, Run { attempt: start.attempt, control: Some(tx), last: first });
    drop(guard);
    tokio::spawn(config.runner.clone().run(launch, rx, reports.clone()));
}

fn read_journal(path: &std::path::Path) -> anyhow::Result<HashSet<(String, u32)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(e.into()),
    };
    let mut taken = HashSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let entry =
            parse_journal_line(line).ok_or_else(|| anyhow::anyhow!("{}: unreadable line {line:?}", path.display()))?;
        taken.insert(entry);
    }
    Ok(taken)
}

/// The (workload, attempt) of a journal line.
pub fn parse_journal_line(line: &str) -> Option<(String, u32)> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    Some((value.get("workload")?.as_str()?.to_owned(), u32::try_from(value.get("attempt")?.as_u64()?).ok()?))
}

async fn read_log(runner: &Runner, workload: &str, max_bytes: u32) -> (String, bool) {
    let Some(path) = runner.log_path(workload) else {
        return ("(a simulated run has no output)".to_owned(), true);
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let max = if max_bytes == 0 { 64 * 1024 } else { max_bytes as usize };
            let tail = &bytes[bytes.len().saturating_sub(max)..];
            (String::from_utf8_lossy(tail).into_owned(), true)
        }
        Err(_) => (String::new(), false),
    }
}
