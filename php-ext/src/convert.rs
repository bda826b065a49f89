//! PHP values to and from `serde_json::Value`, the format the core reads its config from and writes its counters
//! to. Only the shapes a config or a counter set can have are supported; anything else is refused with the key.

use ext_php_rs::{
    boxed::ZBox,
    flags::DataType,
    types::{ZendHashTable, Zval},
};
use serde_json::{Map, Number, Value};

/// Nesting deeper than this is refused: a config is shallow, and a self-referencing PHP array must not recurse
/// without end.
const MAX_DEPTH: usize = 16;

/// Why a PHP value could not become JSON; `key` is the dotted path of the offending entry.
#[derive(Debug)]
pub struct ConvertError {
    pub key: String,
    pub reason: String,
}

/// A PHP array as a JSON object (string keys) or a JSON array (keys 0..n in order, or a nested empty array).
pub fn array_to_json(array: &ZendHashTable) -> Result<Value, ConvertError> {
    array_at(array, "", 0)
}

fn array_at(array: &ZendHashTable, path: &str, depth: usize) -> Result<Value, ConvertError> {
    if depth > MAX_DEPTH {
        return Err(error(path, "is nested too deeply"));
    }
    // A nested `[]` is an empty list (e.g. `'reasons' => []`); the top level is always an object of settings.
    if array.is_empty() && depth > 0 {
        return Ok(Value::Array(Vec::new()));
    }
    if array.has_sequential_keys() && !array.is_empty() {
        let mut items = Vec::with_capacity(array.len());
        for (index, value) in array.values().enumerate() {
            items.push(zval_at(value, &join(path, &index.to_string()), depth)?);
        }
        return Ok(Value::Array(items));
    }
    let mut object = Map::new();
    for (key, value) in array {
        let key = key.to_string();
        let child = join(path, &key);
        let value = zval_at(value, &child, depth)?;
        object.insert(key, value);
    }
    Ok(Value::Object(object))
}

fn zval_at(zval: &Zval, path: &str, depth: usize) -> Result<Value, ConvertError> {
    let zval = zval.dereference();
    match zval.get_type() {
        DataType::Null => Ok(Value::Null),
        DataType::True => Ok(Value::Bool(true)),
        DataType::False => Ok(Value::Bool(false)),
        DataType::Long => Ok(zval.long().map_or(Value::Null, Value::from)),
        DataType::Double => zval
            .double()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| error(path, "is not a finite number")),
        DataType::String => zval
            .str()
            .map(|text| Value::String(text.to_string()))
            .ok_or_else(|| error(path, "is not valid UTF-8")),
        DataType::Array => match zval.array() {
            Some(array) => array_at(array, path, depth + 1),
            None => Err(error(path, "is not a readable array")),
        },
        other => Err(error(path, &format!("has unsupported type {other}"))),
    }
}

/// A JSON value as a PHP value: objects become string-keyed arrays, arrays become lists.
pub fn json_to_zval(value: &Value) -> Zval {
    let mut zval = Zval::new();
    match value {
        Value::Null => zval.set_null(),
        Value::Bool(flag) => zval.set_bool(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(int) => zval.set_long(int),
            None => zval.set_double(number.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(text) => {
            if zval.set_string(text, false).is_err() {
                zval.set_null();
            }
        }
        Value::Array(items) => {
            let mut array = ZendHashTable::new();
            for item in items {
                // Insertion into a fresh, non-persistent array cannot fail; stay panic-free anyway.
                let _ = array.push(json_to_zval(item));
            }
            zval.set_hashtable(array);
        }
        Value::Object(fields) => zval.set_hashtable(object_to_array(fields)),
    }
    zval
}

fn object_to_array(fields: &Map<String, Value>) -> ZBox<ZendHashTable> {
    let mut array = ZendHashTable::new();
    for (key, value) in fields {
        let _ = array.insert(key.as_str(), json_to_zval(value));
    }
    array
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn error(path: &str, reason: &str) -> ConvertError {
    ConvertError {
        key: if path.is_empty() {
            "config".to_string()
        } else {
            path.to_string()
        },
        reason: reason.to_string(),
    }
}
