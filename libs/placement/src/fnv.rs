//! A fast, deterministic hasher for the cycle's small keys (FNV-1a): the standard
//! SipHash showed up in profiles of a 100,000-workload cycle.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a, 64 bits.
#[derive(Default)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A map with FNV hashing.
pub type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;
