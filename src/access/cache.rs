//! The access facts of recently seen patients (care team and consents as the rule reads them),
//! kept between requests. An entry is keyed by the patient's `access_rev`, a random tag that a
//! trigger replaces in the same transaction as any change to the team or the consents, and which
//! every request reads fresh with the patient row: a change committed by any instance is seen by
//! the next request, and facts are loaded after their tag was read, so they are never older than
//! it. A tag is never reused (random, not counted), so facts a rolled-back write saw cannot be
//! served under the tag of a later change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{ConsentTerms, Membership};

/// Patients whose facts are kept at most; past it, an arbitrary entry makes room.
const CAPACITY: usize = 20_000;

/// A patient's care team and consents, as loaded at one revision.
#[derive(Debug)]
pub struct KeptFacts {
    /// Care-team memberships with their dates.
    pub team: Vec<Membership>,
    /// The consents' terms.
    pub consents: Vec<ConsentTerms>,
    /// Consultation desks the consents name.
    pub desks: Vec<String>,
}

/// Facts by patient id, each with the revision it was loaded at.
#[derive(Default)]
pub struct FactsCache {
    entries: Mutex<HashMap<String, (i64, Arc<KeptFacts>)>>,
}

impl FactsCache {
    /// The facts loaded at exactly `rev`, if kept.
    pub fn get(&self, patient_id: &str, rev: i64) -> Option<Arc<KeptFacts>> {
        let entries = self.entries.lock().ok()?;
        entries.get(patient_id).filter(|(at, _)| *at == rev).map(|(_, facts)| facts.clone())
    }

    /// Keeps facts loaded after reading tag `rev` (they are at least that recent). A slow reader
    /// may replace a newer entry with its older one: that costs the next reader a reload, never
    /// a wrong decision.
    pub fn put(&self, patient_id: &str, rev: i64, facts: Arc<KeptFacts>) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= CAPACITY
            && !entries.contains_key(patient_id)
            && let Some(evict) = entries.keys().next().cloned()
        {
            entries.remove(&evict);
        }
        entries.insert(patient_id.to_owned(), (rev, facts));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Arc<KeptFacts> {
        Arc::new(KeptFacts { team: Vec::new(), consents: Vec::new(), desks: Vec::new() })
    }

    #[test]
    fn an_entry_serves_only_its_own_revision() {
        let cache = FactsCache::default();
        cache.put("p1", 3, facts());
        assert!(cache.get("p1", 3).is_some());
        assert!(cache.get("p1", 4).is_none(), "a moved revision must reload");
        assert!(cache.get("p2", 3).is_none());
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = FactsCache::default();
        for i in 0..=CAPACITY {
            cache.put(&format!("p{i}"), 1, facts());
        }
        assert_eq!(cache.entries.lock().unwrap().len(), CAPACITY);
        assert!(cache.get(&format!("p{CAPACITY}"), 1).is_some(), "the newest entry is kept");
    }
}
