//! `hcp workloads submit|list|get|history|why|logs|pause|resume|cancel`: a customer's
//! workloads through routing's Workloads API (logs through execution's).

mod args;
pub mod duration;

pub use args::WorkloadsCommand;

use crate::commands::api::{channel, json, kind_name, refused, request};
use crate::commands::events::emit;
use args::{ActionArgs, IdArgs, ListArgs, LogsArgs, SubmitArgs};
use hcp_proto::v1 as pb;
use hcp_proto::v1::execution_client::ExecutionClient;
use hcp_proto::v1::workloads_client::WorkloadsClient;
use hcp_runtime::config::Config;

/// Runs a workloads command.
pub async fn run(command: WorkloadsCommand, config: &Config) -> anyhow::Result<()> {
    use WorkloadsCommand as W;
    match command {
        W::Submit(args) => submit(*args, config).await,
        W::List(args) => list(args, config).await,
        W::Get(args) => get(args, config).await,
        W::History(args) => history(args, config).await,
        W::Why(args) => why(args, config).await,
        W::State(args) => crate::commands::state::workload(args, config).await,
        W::Logs(args) => logs(args, config).await,
        W::Pause(args) => act("pause", args, config).await,
        W::Resume(args) => act("resume", args, config).await,
        W::Cancel(args) => act("cancel", args, config).await,
    }
}

async fn client(config: &Config, api: Option<&str>) -> anyhow::Result<WorkloadsClient<tonic::transport::Channel>> {
    Ok(WorkloadsClient::new(channel(config, "routing", api).await?))
}

/// A kind as users type it.
pub fn kind(text: &str) -> anyhow::Result<pb::WorkloadKind> {
    Ok(match text.to_ascii_lowercase().replace('_', "-").as_str() {
        "training" => pb::WorkloadKind::Training,
        "batch-inference" | "batch" => pb::WorkloadKind::BatchInference,
        "realtime-inference" | "realtime" => pb::WorkloadKind::RealtimeInference,
        other => anyhow::bail!("--kind: {other:?} is not training, batch-inference or realtime-inference"),
    })
}

fn spec(args: &SubmitArgs) -> anyhow::Result<pb::WorkloadSpec> {
    let locality = match args.locality.as_str() {
        "any" => pb::Locality::Any,
        "rack" => pb::Locality::Rack,
        "host" => pb::Locality::Host,
        other => anyhow::bail!("--locality: {other:?} is not any, rack or host"),
    };
    let env = args
        .env
        .iter()
        .map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect::<Option<_>>()
        .ok_or_else(|| anyhow::anyhow!("--env: write KEY=VALUE"))?;
    Ok(pb::WorkloadSpec {
        tenant: args.tenant.clone(),
        kind: kind(&args.kind)? as i32,
        gpu_model: args.gpu_model.clone(),
        gpu_count: args.gpus,
        memory_mib: args.memory_mib,
        max_latency_ms: args.max_latency_ms.unwrap_or(0),
        priority: args.priority,
        image: args.image.clone().unwrap_or_default(),
        command: args.command.clone(),
        env,
        max_run_time_seconds: duration::parse(&args.duration)
            .map_err(|e| anyhow::anyhow!("--duration: {e}"))?
            .as_secs(),
        preemptible: args.preemptible,
        checkpointing: args.checkpointing,
        port: args.port.unwrap_or(0),
        site: args.site.clone().unwrap_or_default(),
        locality: locality as i32,
    })
}

async fn submit(args: SubmitArgs, config: &Config) -> anyhow::Result<()> {
    let message =
        pb::SubmitWorkloadRequest { spec: Some(spec(&args)?), request_id: args.key.clone().unwrap_or_default() };
    let view = client(config, args.api.as_deref())
        .await?
        .submit(request(message, "user"))
        .await
        .map_err(|s| refused("submit", s))?
        .into_inner();
    if args.output.json {
        println!("{}", json("hcp.v1.WorkloadView", &view));
    } else {
        println!("{} {}", view.workload_id, view.status);
    }
    Ok(())
}

fn line(v: &pb::WorkloadView) -> String {
    let spec = v.spec.clone().unwrap_or_default();
    let kind = kind_name(spec.kind);
    let waiting = v.pending.as_ref().filter(|p| !p.reason.is_empty()).map(|p| format!("{} #{}", p.reason, p.position));
    format!(
        "{:<36}  {:<10} {:<11} {:<18} {:>2}x {:<14} {:>3}  {}",
        v.workload_id,
        spec.tenant,
        v.status,
        kind,
        spec.gpu_count,
        spec.gpu_model,
        v.attempts,
        waiting.unwrap_or_else(|| v.resources.join(","))
    )
}

async fn list(args: ListArgs, config: &Config) -> anyhow::Result<()> {
    let mut api = client(config, args.api.as_deref()).await?;
    let mut out = std::io::stdout().lock();
    if !args.output.json
        && !emit(
            &mut out,
            &format!(
                "{:<36}  {:<10} {:<11} {:<18} {:>3} {:<14} {:>3}  {}",
                "ID", "TENANT", "STATUS", "KIND", "GPU", "MODEL", "TRY", "WHERE / WHY"
            ),
        )?
    {
        return Ok(());
    }
    let mut page_token = String::new();
    loop {
        let message = pb::ListWorkloadsRequest {
            tenant: args.tenant.clone().unwrap_or_default(),
            status: args.status.clone().unwrap_or_default(),
            page_size: 500,
            page_token,
        };
        let page = api.list(message).await.map_err(|s| refused("list", s))?.into_inner();
        for v in &page.workloads {
            let text = if args.output.json { json("hcp.v1.WorkloadView", v) } else { line(v) };
            if !emit(&mut out, &text)? {
                return Ok(());
            }
        }
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        page_token = page.next_page_token;
    }
}

async fn get(args: IdArgs, config: &Config) -> anyhow::Result<()> {
    let message = pb::GetWorkloadRequest { workload_id: args.id.clone() };
    let v = client(config, args.api.as_deref()).await?.get(message).await.map_err(|s| refused("get", s))?.into_inner();
    if args.output.json {
        println!("{}", json("hcp.v1.WorkloadView", &v));
        return Ok(());
    }
    let spec = v.spec.clone().unwrap_or_default();
    println!("id:        {}", v.workload_id);
    println!("tenant:    {}", spec.tenant);
    println!("status:    {} (attempt {}, version {})", v.status, v.attempts, v.version);
    println!("gpus:      {} x {} ({} MiB each at least)", spec.gpu_count, spec.gpu_model, spec.memory_mib);
    println!("run time:  at most {} s; {} ms done and saved", spec.max_run_time_seconds, v.progress_ms);
    if !v.resources.is_empty() {
        println!("on:        {}", v.resources.join(", "));
    }
    if !v.endpoint.is_empty() {
        println!("endpoint:  {}", v.endpoint);
    }
    if !v.reason.is_empty() {
        println!("reason:    {}", v.reason);
    }
    if let Some(p) = v.pending.as_ref().filter(|p| !p.message.is_empty()) {
        println!("waiting:   {} (#{} in the queue): {}", p.reason, p.position, p.message);
    }
    Ok(())
}

async fn history(args: IdArgs, config: &Config) -> anyhow::Result<()> {
    let message = pb::GetWorkloadRequest { workload_id: args.id.clone() };
    let h = client(config, args.api.as_deref())
        .await?
        .history(message)
        .await
        .map_err(|s| refused("history", s))?
        .into_inner();
    let mut out = std::io::stdout().lock();
    let mut previous = None;
    for e in &h.events {
        let text = if args.output.json {
            json("hcp.v1.WorkloadHistoryEntry", e)
        } else {
            let time = hcp_domain::units::Timestamp::from_unix_micros(e.time_unix_micros);
            // How long after the step before: a readable timeline.
            let after = previous.map_or_else(String::new, |p: i64| format!("+{}", since(e.time_unix_micros - p)));
            format!("{:>3} {time} {after:>9} {:<28} {:<22} {}", e.version, e.event_type, e.actor, e.detail)
        };
        previous = Some(e.time_unix_micros);
        if !emit(&mut out, &text)? {
            break;
        }
    }
    Ok(())
}

/// A span of microseconds as people read it: `850ms`, `12.4s`, `3m05s`, `2h10m`, `3d4h`.
fn since(micros: i64) -> String {
    let micros = micros.max(0);
    let seconds = micros / 1_000_000;
    match seconds {
        0 => format!("{}ms", micros / 1000),
        1..=59 => format!("{:.1}s", micros as f64 / 1e6),
        60..=3599 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        3600..=86_399 => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{}d{}h", seconds / 86_400, seconds % 86_400 / 3600),
    }
}

async fn why(args: IdArgs, config: &Config) -> anyhow::Result<()> {
    let message = pb::GetWorkloadRequest { workload_id: args.id.clone() };
    let p = client(config, args.api.as_deref()).await?.why(message).await.map_err(|s| refused("why", s))?.into_inner();
    if args.output.json {
        println!("{}", json("hcp.v1.PendingInfo", &p));
    } else if p.reason.is_empty() {
        println!(
            "{} is {}: {}",
            p.workload_id,
            p.status,
            if p.message.is_empty() { "not waiting" } else { &p.message }
        );
    } else {
        println!("{} waits: {} (#{} in the queue): {}", p.workload_id, p.reason, p.position, p.message);
    }
    Ok(())
}

async fn logs(args: LogsArgs, config: &Config) -> anyhow::Result<()> {
    let message = pb::LogsRequest { workload_id: args.id.clone(), max_bytes: args.max_bytes };
    let reply = ExecutionClient::new(channel(config, "execution", args.api.as_deref()).await?)
        .logs(message)
        .await
        .map_err(|s| refused("logs", s))?
        .into_inner();
    print!("{}", reply.text);
    Ok(())
}

async fn act(verb: &str, args: ActionArgs, config: &Config) -> anyhow::Result<()> {
    let message = pb::WorkloadActionRequest { workload_id: args.id.clone(), reason: args.reason.clone() };
    let mut api = client(config, args.api.as_deref()).await?;
    let reply = match verb {
        "pause" => api.pause(request(message, "user")).await,
        "resume" => api.resume(request(message, "user")).await,
        _ => api.cancel(request(message, "user")).await,
    };
    let v = reply.map_err(|s| refused(verb, s))?.into_inner();
    if args.output.json {
        println!("{}", json("hcp.v1.WorkloadView", &v));
    } else {
        println!("{} {}", v.workload_id, v.status);
    }
    Ok(())
}
