//! Raw table access for tests and nothing else (feature `test-util`, enabled only by the test
//! crate): reading items as stored, scanning for secrets, and putting an item in a state that
//! only time would produce.

use super::attr::{key, n, Item};
use super::{Store, StoreError};

impl Store {
    /// The client itself, for tests that inspect the table's own settings.
    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.db
    }

    /// The stored item, raw, for tests that check exact attributes.
    pub async fn get_raw(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        self.get(pk, sk).await
    }

    /// Every item Porter stored, in the main table and the audit table (test tables are tiny).
    pub async fn scan_all(&self) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        for table in [&self.table, &self.audit_table] {
            let out = self
                .db
                .scan()
                .table_name(table)
                .consistent_read(true)
                .send()
                .await?;
            items.extend(out.items.unwrap_or_default());
        }
        Ok(items)
    }

    /// Sets number attributes of an existing item.
    pub async fn set_numbers(
        &self,
        pk: String,
        sk: &str,
        values: &[(&str, i64)],
    ) -> Result<(), StoreError> {
        let expr: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, (k, _))| format!("{k} = :v{i}"))
            .collect();
        let mut req = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression(format!("SET {}", expr.join(", ")))
            .condition_expression("attribute_exists(pk)");
        for (i, (_, v)) in values.iter().enumerate() {
            req = req.expression_attribute_values(format!(":v{i}"), n(*v));
        }
        req.send().await?;
        Ok(())
    }

    /// Removes an attribute of an existing item (e.g. a user's role).
    pub async fn remove_attribute(
        &self,
        pk: String,
        sk: &str,
        name: &str,
    ) -> Result<(), StoreError> {
        self.db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("REMOVE #a")
            .expression_attribute_names("#a", name)
            .condition_expression("attribute_exists(pk)")
            .send()
            .await?;
        Ok(())
    }
}
