//! Attribute values and the write builders every store module uses: items in and out, and
//! `Put`/`Update`/`Delete` elements of a transaction, each with its condition.

use super::StoreError;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
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

/// A string set (DynamoDB refuses an empty one: callers pass at least one value).
pub fn ss(v: &[String]) -> AttributeValue {
    AttributeValue::Ss(v.to_vec())
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

/// Attribute names that are reserved words in DynamoDB expressions; an expression writes them
/// as `#status`, `#role`, and the builders below supply the mapping when they appear.
const RESERVED: &[(&str, &str)] = &[
    ("#status", "status"),
    ("#role", "role"),
    ("#ttl", "ttl"),
    ("#name", "name"),
];

fn names_in(expressions: &[&str]) -> Option<HashMap<String, String>> {
    let names: HashMap<String, String> = RESERVED
        .iter()
        .filter(|(alias, _)| expressions.iter().any(|e| e.contains(alias)))
        .map(|(alias, name)| ((*alias).to_owned(), (*name).to_owned()))
        .collect();
    (!names.is_empty()).then_some(names)
}

fn values_or_none(values: Item) -> Option<Item> {
    (!values.is_empty()).then_some(values)
}

/// A conditional put, as one element of a transaction.
pub fn put(table: &str, it: Item, condition: &str) -> Result<TransactWriteItem, StoreError> {
    put_if(table, it, condition, Item::new())
}

/// A put whose condition compares with `values`, as one element of a transaction.
pub fn put_if(
    table: &str,
    it: Item,
    condition: &str,
    values: Item,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(it))
        .condition_expression(condition)
        .set_expression_attribute_values(values_or_none(values))
        .build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// An unconditional put: the caller replaces the item whole.
pub fn put_new(table: &str, it: Item) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(it))
        .build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A conditional update, as one element of a transaction.
pub fn update(
    table: &str,
    k: Item,
    expression: &str,
    condition: &str,
    values: Item,
) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(k))
        .update_expression(expression)
        .condition_expression(condition)
        .set_expression_attribute_names(names_in(&[expression, condition]))
        .set_expression_attribute_values(values_or_none(values))
        .build()?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// A conditional delete, as one element of a transaction.
pub fn delete(
    table: &str,
    k: Item,
    condition: &str,
    values: Item,
) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(k))
        .condition_expression(condition)
        .set_expression_attribute_names(names_in(&[condition]))
        .set_expression_attribute_values(values_or_none(values))
        .build()?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// A condition on an item the transaction does not write, as one element of it.
pub fn check(
    table: &str,
    k: Item,
    condition: &str,
    values: Item,
) -> Result<TransactWriteItem, StoreError> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(k))
        .condition_expression(condition)
        .set_expression_attribute_names(names_in(&[condition]))
        .set_expression_attribute_values(values_or_none(values))
        .build()?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// The result of a single conditional write: `Ok(false)` when its condition failed (someone
/// else got there first, or the state is not what the caller expected).
pub fn condition_held<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: std::error::Error + ConditionFailed + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(E::is_condition_failed) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The operation errors that can say "the condition failed".
pub trait ConditionFailed {
    fn is_condition_failed(&self) -> bool;
}

macro_rules! condition_failed {
    ($($error:path),*) => {$(
        impl ConditionFailed for $error {
            fn is_condition_failed(&self) -> bool {
                self.is_conditional_check_failed_exception()
            }
        }
    )*};
}

condition_failed!(
    aws_sdk_dynamodb::operation::put_item::PutItemError,
    aws_sdk_dynamodb::operation::update_item::UpdateItemError,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemError
);
