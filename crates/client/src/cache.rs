//! A bounded in-memory cache whose entries expire, each with its own time to live (so positive
//! and negative answers can live for different times).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Entries expire `ttl` after their insertion; at most `max_entries` are kept (the one closest
/// to expiry goes first).
#[derive(Debug)]
pub struct TtlCache<K, V> {
    max_entries: usize,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// An empty cache holding at most `max_entries` (0 disables it).
    pub fn new(max_entries: usize) -> Self {
        TtlCache {
            max_entries,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The live value for `key`.
    pub fn get(&self, key: &K) -> Option<V> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some((expires, value)) if Instant::now() < *expires => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Stores `value` for `ttl` (a zero `ttl` stores nothing).
    pub fn insert(&self, key: K, value: V, ttl: Duration) {
        if ttl.is_zero() || self.max_entries == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if entries.len() >= self.max_entries && !entries.contains_key(&key) {
            entries.retain(|_, (expires, _)| *expires > now);
            if entries.len() >= self.max_entries
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, (expires, _))| *expires)
                    .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(key, (now + ttl, value));
    }

    /// Forgets `key`.
    pub fn remove(&self, key: &K) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    /// Entries held (expired ones included until they are touched).
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_their_own_ttl() {
        let cache = TtlCache::new(10);
        cache.insert("long", 1, Duration::from_secs(60));
        cache.insert("short", 2, Duration::from_millis(20));
        cache.insert("never", 3, Duration::ZERO);
        assert_eq!(cache.get(&"short"), Some(2));
        assert_eq!(cache.get(&"never"), None);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(cache.get(&"short"), None);
        assert_eq!(cache.get(&"long"), Some(1));
        assert_eq!(cache.len(), 1);
        cache.remove(&"long");
        assert!(cache.is_empty());
    }

    #[test]
    fn bounded_the_closest_to_expiry_goes_first() {
        let cache = TtlCache::new(2);
        cache.insert(1, "a", Duration::from_secs(10));
        cache.insert(2, "b", Duration::from_secs(60));
        cache.insert(3, "c", Duration::from_secs(60));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&1), None);
        assert_eq!(cache.get(&2), Some("b"));
        cache.insert(2, "b2", Duration::from_secs(60));
        assert_eq!((cache.len(), cache.get(&2)), (2, Some("b2")));
        cache.clear();
        assert!(cache.is_empty());
        let off: TtlCache<u8, u8> = TtlCache::new(0);
        off.insert(1, 1, Duration::from_secs(1));
        assert!(off.is_empty());
    }
}
