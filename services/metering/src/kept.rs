//! A usage record as the ledger's view keeps it in memory for usage queries and margins:
//! its span as integers and its strings shared with every other record that names the
//! same workload, tenant, model, site or cause (as decoded, a record is five strings of
//! its own on the heap beside 152 bytes; kept, 112 bytes and what it shares).

use hcp_billing::books::Record;
use hcp_billing::usage::Span;
use hcp_domain::units::Timestamp;
use hcp_proto::v1 as pb;
use std::collections::HashSet;
use std::sync::Arc;

/// A usage record, kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// Its version in the tenant's usage stream (of its `usage.recorded`).
    pub version: u64,
    /// Its span, unix µs.
    pub from: i64,
    /// The span's end (not included).
    pub to: i64,
    /// GPUs held.
    pub gpus: u32,
    /// The workload.
    pub workload_id: Arc<str>,
    /// Its tenant.
    pub tenant: Arc<str>,
    /// The GPU model.
    pub model: Arc<str>,
    /// The site its spec named ("" if none).
    pub site: Arc<str>,
    /// What closed it.
    pub closed_by: Arc<str>,
}

impl Kept {
    /// Its billed span.
    pub fn span(&self) -> Span {
        Span { from: Timestamp::from_unix_micros(self.from), to: Timestamp::from_unix_micros(self.to), gpus: self.gpus }
    }

    /// As the books see it, at `version`.
    pub fn record(&self, version: u64) -> Record {
        Record::new(version, &*self.model, self.span())
    }

    /// As the API shows it.
    pub fn to_pb(&self) -> pb::UsageRecorded {
        pb::UsageRecorded {
            workload_id: self.workload_id.to_string(),
            tenant: self.tenant.to_string(),
            gpu_model: self.model.to_string(),
            site: self.site.to_string(),
            gpus: self.gpus,
            from_unix_micros: self.from,
            to_unix_micros: self.to,
            gpu_micros: i64::try_from(self.span().gpu_micros()).unwrap_or(i64::MAX),
            closed_by: self.closed_by.to_string(),
        }
    }
}

/// The strings records share.
#[derive(Debug, Default)]
pub struct Strings(HashSet<Arc<str>>);

impl Strings {
    /// `text`, shared.
    fn share(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(text) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text);
        self.0.insert(Arc::clone(&shared));
        shared
    }

    /// `record`, at `version`, kept.
    pub fn keep(&mut self, version: u64, record: &pb::UsageRecorded) -> Kept {
        Kept {
            version,
            from: record.from_unix_micros,
            to: record.to_unix_micros,
            gpus: record.gpus,
            workload_id: self.share(&record.workload_id),
            tenant: self.share(&record.tenant),
            model: self.share(&record.gpu_model),
            site: self.share(&record.site),
            closed_by: self.share(&record.closed_by),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kept record is what was recorded, its strings shared, in 112 bytes.
    #[test]
    fn a_kept_record_is_the_record_and_small() {
        let record = pb::UsageRecorded {
            workload_id: "0190a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a01".into(),
            tenant: "acme".into(),
            gpu_model: "h100-sxm-80gb".into(),
            site: "tx-1".into(),
            gpus: 4,
            from_unix_micros: 1_000_000,
            to_unix_micros: 4_000_000,
            gpu_micros: 12_000_000,
            closed_by: "workload.completed".into(),
        };
        let mut strings = Strings::default();
        let (a, b) = (strings.keep(1, &record), strings.keep(2, &record));
        assert_eq!((a.to_pb(), a.record(7).version), (record, 7));
        assert!(Arc::ptr_eq(&a.workload_id, &b.workload_id) && Arc::ptr_eq(&a.model, &b.model));
        assert_eq!(std::mem::size_of::<Kept>(), 112);
        assert_eq!(std::mem::size_of::<pb::UsageRecorded>(), 152);
    }
}
