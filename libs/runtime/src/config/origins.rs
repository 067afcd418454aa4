//! [`Origins`]: for each dotted key, the layer that set it last.
//!
//! Only leaves (and arrays with their items, which a layer always sets whole) are recorded;
//! a key nobody recorded came from the defaults.

use std::collections::BTreeMap;

use crate::config::error::Origin;

/// Which layer set each dotted key last. Keys look like `pricing.speed` or `sites[1].cap_kw`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Origins {
    map: BTreeMap<String, Origin>,
}

impl Origins {
    /// Where the value of `key` came from: the layer that set the key itself, else the layer
    /// that set the array it belongs to (`sites[0].max_wake_kw` filled in by a default inside a
    /// file's `[[sites]]` counts as the file's), else [`Origin::Default`].
    pub fn get(&self, key: &str) -> Origin {
        let mut current = key;
        loop {
            if let Some(origin) = self.map.get(current) {
                return origin.clone();
            }
            match current.rfind(['.', '[']) {
                Some(cut) => current = &current[..cut],
                None => return Origin::Default,
            }
        }
    }

    /// Every recorded key with its origin, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Origin)> {
        self.map.iter().map(|(key, origin)| (key.as_str(), origin))
    }

    /// Records that `origin` set `key`.
    pub(crate) fn set(&mut self, key: String, origin: Origin) {
        self.map.insert(key, origin);
    }

    /// For an error about `key` (say an unknown section `foo`): the most precise recorded key at
    /// or below it (`foo.bar`) with its origin, else `key` with [`Origins::get`].
    pub(crate) fn resolve(&self, key: &str) -> (String, Origin) {
        if self.map.contains_key(key) {
            return (key.to_owned(), self.get(key));
        }
        let below = self.map.range(key.to_owned()..).take_while(|(k, _)| k.starts_with(key)).find(|(k, _)| {
            let rest = &k[key.len()..];
            key.is_empty() || rest.starts_with('.') || rest.starts_with('[')
        });
        match below {
            Some((found, origin)) => (found.clone(), origin.clone()),
            None => (key.to_owned(), self.get(key)),
        }
    }
}

/// `parent.child`, or `child` at the top.
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() { child.to_owned() } else { format!("{parent}.{child}") }
}
