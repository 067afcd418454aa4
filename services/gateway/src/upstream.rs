//! The services the gateway calls, each over a lazily connected gRPC channel (a service
//! may start after the gateway, or restart: a call then answers 503 until it is back),
//! and a unary call by the method's path with the request already encoded, so a route
//! forwards a body it built from JSON without a typed client per service.

use bytes::{Buf, BufMut};
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

/// A service behind the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    /// Workloads, tenants, hosts.
    Routing,
    /// The inventory of resources and their telemetry.
    Discovery,
    /// Prices.
    Pricing,
    /// Sites and allocation plans.
    Optimization,
    /// The fleet's control and workloads' logs.
    Execution,
    /// Usage, invoices, rate cards, budgets.
    Metering,
    /// Webhook endpoints and deliveries.
    Notifications,
}

/// A channel to each service.
#[derive(Clone)]
pub struct Upstreams {
    routing: Channel,
    discovery: Channel,
    pricing: Channel,
    optimization: Channel,
    execution: Channel,
    metering: Channel,
    notifications: Channel,
}

impl Upstreams {
    /// Lazy channels to each service's gRPC address, `addr(name)`.
    pub fn lazy<A: std::fmt::Display>(addr: impl Fn(&str) -> Option<A>) -> Result<Self, String> {
        let dial = |name: &str| {
            let addr = addr(name).ok_or_else(|| format!("no gRPC address for {name}"))?;
            Channel::from_shared(format!("http://{addr}"))
                .map(|e| e.connect_lazy())
                .map_err(|e| format!("{name} at {addr}: {e}"))
        };
        Ok(Upstreams {
            routing: dial("routing")?,
            discovery: dial("discovery")?,
            pricing: dial("pricing")?,
            optimization: dial("optimization")?,
            execution: dial("execution")?,
            metering: dial("metering")?,
            notifications: dial("notifications")?,
        })
    }

    /// The channels of the configuration's service table.
    pub fn from_config(config: &hcp_runtime::config::Config) -> Result<Self, String> {
        Self::lazy(|name| config.service(name).map(|a| a.dial_addr()))
    }

    /// The channel to `upstream`.
    pub fn channel(&self, upstream: Upstream) -> Channel {
        match upstream {
            Upstream::Routing => &self.routing,
            Upstream::Discovery => &self.discovery,
            Upstream::Pricing => &self.pricing,
            Upstream::Optimization => &self.optimization,
            Upstream::Execution => &self.execution,
            Upstream::Metering => &self.metering,
            Upstream::Notifications => &self.notifications,
        }
        .clone()
    }
}

/// Bytes in, bytes out: the messages are encoded and decoded by the caller.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

/// Calls `method` (`/hcp.v1.Inventory/ListResources`) on `channel` with an encoded
/// request; answers the encoded reply.
pub async fn unary(
    channel: Channel,
    method: &'static str,
    request: tonic::Request<Vec<u8>>,
) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| Status::unavailable(format!("the service is unavailable: {e}")))?;
    let path = axum::http::uri::PathAndQuery::from_static(method);
    grpc.unary(request, path, Raw).await.map(tonic::Response::into_inner)
}
