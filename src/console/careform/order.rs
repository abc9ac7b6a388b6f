//! The order a schema file writes each object's keys in. `serde_json` keeps an object's members
//! sorted by name, so a parsed schema would show 終了日 before 開始日 and an address back to
//! front; people read a form in the order its authors wrote it (〒, 都道府県, 市区町村, 町名).

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Every object's keys, in file order, of every embedded schema: found by its key set (an
/// object's sorted keys), which in practice names one object shape of the schemas.
fn orders() -> &'static HashMap<Vec<String>, Vec<String>> {
    static ORDERS: OnceLock<HashMap<Vec<String>, Vec<String>>> = OnceLock::new();
    ORDERS.get_or_init(|| {
        let mut objects = Vec::new();
        for (_, text) in crate::schemas::EMBEDDED {
            let mut de = serde_json::Deserializer::from_str(text);
            // An embedded schema that does not parse is refused at start-up; here it only loses its order.
            let _parsed = Collect(&mut objects).deserialize(&mut de);
        }
        objects
            .into_iter()
            .map(|keys| {
                let mut sorted = keys.clone();
                sorted.sort();
                (sorted, keys)
            })
            .collect()
    })
}

/// `keys` (an object's members, in any order) in the order the schema writes them; keys the
/// schema does not list come last, as they were.
pub fn in_schema_order<'k>(keys: &[&'k str]) -> Vec<&'k str> {
    let mut sorted: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    sorted.sort();
    let Some(order) = orders().get(&sorted) else { return keys.to_vec() };
    let mut out: Vec<&'k str> = order.iter().filter_map(|k| keys.iter().find(|x| **x == k.as_str()).copied()).collect();
    let rest: Vec<&'k str> = keys.iter().filter(|k| !out.contains(k)).copied().collect();
    out.extend(rest);
    out
}

/// Walks a JSON text and records every object's keys as met.
struct Collect<'a>(&'a mut Vec<Vec<String>>);

impl<'de> DeserializeSeed<'de> for Collect<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Collect<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let out = self.0;
        let mut keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            keys.push(key);
            map.next_value_seed(Collect(&mut *out))?;
        }
        out.push(keys);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let out = self.0;
        while seq.next_element_seed(Collect(&mut *out))?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_and_a_period_come_in_the_order_the_schema_writes_them() {
        assert_eq!(
            in_schema_order(&["city", "line", "postal_code", "prefecture"]),
            ["postal_code", "prefecture", "city", "line"]
        );
        assert_eq!(in_schema_order(&["zzz", "yyy"]), ["zzz", "yyy"]);
    }
}
