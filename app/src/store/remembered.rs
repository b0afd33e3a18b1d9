//! A bounded memory of values that never change once stored (a workflow
//! version's definition): what was used least recently is forgotten first,
//! so a server that meets many versions keeps only the ones it uses.

use std::hash::Hash;
use std::sync::Mutex;

/// At most `capacity` entries, shared between threads.
pub struct Remembered<K, V> {
    map: Mutex<hashlink::LruCache<K, V>>,
}

impl<K: Hash + Eq, V: Clone> Remembered<K, V> {
    /// Remembers up to `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Remembered<K, V> {
        Remembered {
            map: Mutex::new(hashlink::LruCache::new(capacity.max(1))),
        }
    }

    /// The value remembered for `key`, now the most recently used.
    pub fn get(&self, key: &K) -> Option<V> {
        self.map.lock().ok()?.get(key).cloned()
    }

    /// Remembers `value` for `key`, forgetting the least recently used
    /// entry when full.
    pub fn put(&self, key: K, value: V) {
        if let Ok(mut m) = self.map.lock() {
            m.insert(key, value);
        }
    }

    /// How many entries are remembered.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::Remembered;

    #[test]
    fn it_keeps_at_most_its_capacity_and_forgets_the_least_recently_used() {
        let r = Remembered::new(3);
        for i in 0..1000 {
            r.put(i, i * 10);
            assert!(r.len() <= 3, "{} entries after {i}", r.len());
        }
        assert_eq!(r.len(), 3);
        assert_eq!(r.get(&999), Some(9990));
        assert_eq!(r.get(&0), None, "an old entry is forgotten");
        // 997 used now, so 998 is the least recently used and goes first
        assert_eq!(r.get(&997), Some(9970));
        r.put(1000, 1);
        assert_eq!(r.get(&998), None);
        assert_eq!(r.get(&997), Some(9970));
        assert_eq!(r.get(&1000), Some(1));
    }

    #[test]
    fn a_capacity_of_zero_still_remembers_one() {
        let r = Remembered::new(0);
        r.put("a", 1);
        assert_eq!(r.get(&"a"), Some(1));
        r.put("b", 2);
        assert_eq!((r.get(&"a"), r.get(&"b"), r.len()), (None, Some(2), 1));
    }
}
