//! Rate cards: a tenant's own, recorded as `ratecard.set` on `ratecard-<tenant>`, or
//! the configured default (every model at `metering.list_usd_per_gpu_hour`, the
//! configured tax). Conversions between the API's cards and the billing core's.

use hcp_billing::ratecard::{Price, RateCard, RateCardError, Tier};
use hcp_domain::units::Money;
use hcp_eventstore::{Direction, EventStore, ExpectedVersion};
use hcp_proto::v1 as pb;
use hcp_runtime::EventContext;
use hcp_runtime::config::MeteringConfig;
use prost::Message;

/// The event a card is recorded as.
pub const RATECARD_SET: &str = "ratecard.set";

/// A tenant's rate card stream.
pub fn ratecard_stream(tenant: &str) -> String {
    format!("ratecard-{tenant}")
}

/// The default card from the configuration.
pub fn default_card(config: &MeteringConfig) -> RateCard {
    let per_hour = Money::from_micros((config.list_usd_per_gpu_hour * 1e6).round() as i64);
    RateCard {
        prices: vec![Price { model: "*".into(), tiers: vec![Tier { up_to_gpu_hours: None, per_gpu_hour: per_hour }] }],
        commitment_discount_bps: 0,
        tax_bps: config.tax_bps,
    }
}

/// The core's card from the API's.
pub fn from_pb(card: &pb::RateCard) -> RateCard {
    RateCard {
        prices: card
            .prices
            .iter()
            .map(|p| Price {
                model: p.model.clone(),
                tiers: p
                    .tiers
                    .iter()
                    .map(|t| Tier {
                        up_to_gpu_hours: (t.up_to_gpu_hours > 0).then_some(t.up_to_gpu_hours),
                        per_gpu_hour: Money::from_micros(t.usd_micros_per_gpu_hour),
                    })
                    .collect(),
            })
            .collect(),
        commitment_discount_bps: card.commitment_discount_bps,
        tax_bps: card.tax_bps,
    }
}

/// The API's card from the core's.
pub fn to_pb(card: &RateCard) -> pb::RateCard {
    pb::RateCard {
        prices: card
            .prices
            .iter()
            .map(|p| pb::ModelPrice {
                model: p.model.clone(),
                tiers: p
                    .tiers
                    .iter()
                    .map(|t| pb::PriceTier {
                        up_to_gpu_hours: t.up_to_gpu_hours.unwrap_or(0),
                        usd_micros_per_gpu_hour: t.per_gpu_hour.micros(),
                    })
                    .collect(),
            })
            .collect(),
        commitment_discount_bps: card.commitment_discount_bps,
        tax_bps: card.tax_bps,
    }
}

/// Why a card is refused.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// The card itself.
    #[error("card.{0}")]
    Invalid(#[from] RateCardError),
    /// A card with no prices, or a price with no model.
    #[error("card.prices: {0}")]
    Empty(&'static str),
    /// The store.
    #[error(transparent)]
    Store(#[from] hcp_eventstore::StoreError),
}

impl hcp_runtime::HasErrorCode for CardError {
    fn code(&self) -> hcp_runtime::ErrorCode {
        match self {
            CardError::Store(e) => e.code(),
            _ => hcp_runtime::ErrorCode::InvalidArgument,
        }
    }
}

/// A tenant's card: its own (with its version) or the default (version 0).
pub async fn load<S: EventStore>(
    store: &S,
    config: &MeteringConfig,
    tenant: &str,
) -> Result<(RateCard, u64, bool), hcp_eventstore::StoreError> {
    let last = store.read_stream(&ratecard_stream(tenant), u64::MAX, Direction::Backwards, 1).await?;
    match last.first() {
        Some(e) => {
            let card = pb::RateCard::decode(e.payload.as_ref())
                .map_err(|why| hcp_eventstore::StoreError::Corrupt(format!("{} v{}: {why}", e.stream, e.version)))?;
            Ok((from_pb(&card), e.version, true))
        }
        None => Ok((default_card(config), 0, false)),
    }
}

/// Records `card` as `tenant`'s; answers its version.
pub async fn set<S: EventStore>(
    store: &S,
    tenant: &str,
    card: &pb::RateCard,
    context: &EventContext,
) -> Result<u64, CardError> {
    if card.prices.is_empty() {
        return Err(CardError::Empty("at least one price (model `*` prices every model)"));
    }
    if card.prices.iter().any(|p| p.model.trim().is_empty()) {
        return Err(CardError::Empty("every price names a model (or `*`)"));
    }
    // Models by their catalogue ids (`H100` is `h100-sxm-80gb`), as usage names them.
    let mut card = card.clone();
    for p in &mut card.prices {
        if p.model.trim() != "*" {
            p.model = hcp_domain::catalogue::canonical_gpu_model(&p.model);
        }
    }
    from_pb(&card).validate()?;
    let now = hcp_runtime::clock::now_micros();
    let event = context.event(0, RATECARD_SET, card.encode_to_vec(), now);
    let stream = ratecard_stream(tenant);
    let result = store.append(&stream, ExpectedVersion::Any, vec![event]).await?;
    Ok(result.version)
}
