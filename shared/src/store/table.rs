//! Creating the tables (the main one and the audit one): used by `porterctl table create`, the
//! dev server and the tests. In AWS they come from template.yaml; this mirrors it exactly.

use super::{Store, StoreError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, Projection, ProjectionType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus,
};
use std::time::Duration;

pub const GSI1: &str = "gsi1";
pub const TTL_ATTRIBUTE: &str = "ttl";

/// What `ensure_table` did, for the operator.
#[derive(Debug, PartialEq, Eq)]
pub enum TableOutcome {
    Created,
    AlreadyExisted,
}

fn attr(name: &str) -> Result<AttributeDefinition, StoreError> {
    Ok(AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()?)
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
    Ok(KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()?)
}

impl Store {
    /// Creates both tables with their keys, the GSI, TTL and point-in-time recovery; safe to
    /// run again. The outcome is the main table's.
    pub async fn ensure_table(&self) -> Result<TableOutcome, StoreError> {
        let outcome = self.ensure_one(&self.table.clone(), true).await?;
        self.ensure_one(&self.audit_table.clone(), false).await?;
        Ok(outcome)
    }

    async fn ensure_one(&self, table: &str, with_gsi: bool) -> Result<TableOutcome, StoreError> {
        let mut create = self
            .db
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?);
        if with_gsi {
            create = create
                .attribute_definitions(attr("gsi1pk")?)
                .attribute_definitions(attr("gsi1sk")?)
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(GSI1)
                        .key_schema(key("gsi1pk", KeyType::Hash)?)
                        .key_schema(key("gsi1sk", KeyType::Range)?)
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()?,
                );
        }
        let outcome = match create.send().await {
            Ok(_) => TableOutcome::Created,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                TableOutcome::AlreadyExisted
            }
            Err(e) => return Err(e.into()),
        };
        self.wait_active(table).await?;
        self.ensure_ttl(table).await?;
        self.db
            .update_continuous_backups()
            .table_name(table)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()?,
            )
            .send()
            .await?;
        Ok(outcome)
    }

    async fn wait_active(&self, table: &str) -> Result<(), StoreError> {
        // Bounded: about two minutes, far more than a new on-demand table needs.
        for _ in 0..120 {
            let desc = self.db.describe_table().table_name(table).send().await?;
            if desc.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Err(StoreError::Sdk(format!(
            "table {table} did not become active"
        )))
    }

    async fn ensure_ttl(&self, table: &str) -> Result<(), StoreError> {
        let current = self
            .db
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await?;
        let status = current
            .time_to_live_description()
            .and_then(|d| d.time_to_live_status());
        if matches!(
            status,
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        ) {
            return Ok(());
        }
        self.db
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await?;
        Ok(())
    }
}
