//! `hcp plan` and `hcp explain`: the optimizer's decisions and its reasons (`explain`
//! reads the log itself when optimization is down).

use crate::cli::{ApiAddr, ExplainArgs, PlanArgs};
use crate::commands::events::emit;
use crate::settings;
use anyhow::Context;
use hcp_optimization::{Optimizer, policies};
use hcp_proto::v1 as pb;
use hcp_proto::v1::optimization_client::OptimizationClient;
use hcp_runtime::config::Config;
use prost::Message;
use std::sync::Arc;
use tonic::transport::Channel;

async fn client(at: &ApiAddr, config: &Config) -> anyhow::Result<OptimizationClient<Channel>> {
    let url = at.api.clone().unwrap_or_else(|| format!("http://{}", config.services.optimization.dial_addr()));
    let channel = hcp_proto::client::connect(&url)
        .await
        .context("the optimization API (is `hcp up` or `hcp serve optimization` running?)")?;
    Ok(OptimizationClient::new(channel))
}

/// Plans a site now.
pub async fn plan(args: PlanArgs, config: &Config) -> anyhow::Result<()> {
    let plan = client(&args.at, config)
        .await?
        .plan(pb::PlanRequest { site: args.site.clone() })
        .await
        .map_err(|s| anyhow::anyhow!("planning {}: {}", args.site, s.message()))?
        .into_inner();
    show(&plan, args.output.json)
}

/// Shows a recorded plan: from optimization, or, when it is down, from the log.
pub async fn explain(args: ExplainArgs, config: &Config) -> anyhow::Result<()> {
    let plan = match client(&args.at, config).await {
        Ok(mut client) => client
            .explain(pb::ExplainRequest { plan_id: args.plan_id.clone() })
            .await
            .map_err(|s| anyhow::anyhow!("explaining {}: {}", args.plan_id, s.message()))?
            .into_inner(),
        Err(live) => {
            let store = settings::open_existing(config)
                .await
                .map_err(|e| anyhow::anyhow!("{live:#}; and the log cannot be read instead: {e:#}"))?;
            // The same search optimization does, over the configured sites' plan streams.
            let reader = Optimizer::new(Arc::new(store), Arc::default(), Arc::default(), policies(config));
            let plan = reader.explain(&args.plan_id).await?;
            eprintln!("note: {live:#}; read from the log at {} instead", config.store_url());
            plan
        }
    };
    show(&plan, args.output.json)
}

fn show(plan: &pb::AllocationPlanned, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let v = hcp_proto::descriptors::message_to_json("hcp.v1.AllocationPlanned", &plan.encode_to_vec())?;
        emit(&mut out, &v.to_string())?;
        return Ok(());
    }
    emit(&mut out, &format!("plan {} for {}: {}", plan.plan_id, plan.site, plan.summary))?;
    emit(
        &mut out,
        &format!("price basis: {}; hashprice ${:.2}/PH/day", plan.price_basis, plan.hashprice_usd_per_ph_day),
    )?;
    for g in &plan.groups {
        emit(&mut out, &format!("  {:<24} {:>5}/{:<5} {}", g.model, g.running, g.devices, g.why))?;
    }
    Ok(())
}
