//! Small helpers to build and read DynamoDB attribute maps without ceremony.

use super::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn b(v: bool) -> AttributeValue {
    AttributeValue::Bool(v)
}

pub fn item<const N: usize>(pairs: [(&str, AttributeValue); N]) -> Item {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

pub fn key(pk: String, sk: &str) -> Item {
    item([("pk", s(pk)), ("sk", s(sk))])
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub fn req_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    get_s(item, name).ok_or_else(|| StoreError::Corrupt(format!("missing string attribute {name}")))
}

pub fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

pub fn req_n(item: &Item, name: &str) -> Result<i64, StoreError> {
    get_n(item, name).ok_or_else(|| StoreError::Corrupt(format!("missing number attribute {name}")))
}

pub fn get_bool(item: &Item, name: &str) -> bool {
    item.get(name)
        .and_then(|v| v.as_bool().ok())
        .copied()
        .unwrap_or(false)
}
