//! What a tenant's admin manages: its staff accounts (added with a one-time password, given a
//! role, disabled) and its API keys (listed without their secret, revoked). Each change is an
//! event in the tenant's audit trail with the admin as its actor.

use identdesk_domain::{Environment, Role};
use serde_json::json;
use sqlx::Row;

use super::accounts::{generate_password, hash_password, Secret, StaffUser};
use super::audit::{self, Actor};
use super::{now_ms, Store};
use crate::error::{Error, Result};

/// A staff account as its admin sees it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserAccount {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub created_at_ms: i64,
    pub disabled_at_ms: Option<i64>,
}

/// An API key without its secret, which only its creator saw, once.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    pub id: String,
    pub environment: Environment,
    pub permissions: Vec<identdesk_domain::ApiPermission>,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

const USER_COLUMNS: &str = "id, email, role, created_at_ms, disabled_at_ms";

fn account_from_row(r: &sqlx::any::AnyRow) -> Result<UserAccount> {
    Ok(UserAccount {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        role: r.try_get::<String, _>("role")?.parse()?,
        created_at_ms: r.try_get("created_at_ms")?,
        disabled_at_ms: r.try_get("disabled_at_ms")?,
    })
}

fn key_from_row(r: &sqlx::any::AnyRow) -> Result<ApiKeyInfo> {
    Ok(ApiKeyInfo {
        id: r.try_get("id")?,
        environment: r.try_get::<String, _>("environment")?.parse()?,
        permissions: super::accounts::permissions_from(&r.try_get::<String, _>("permissions")?)?,
        created_at_ms: r.try_get("created_at_ms")?,
        revoked_at_ms: r.try_get("revoked_at_ms")?,
    })
}

impl Store {
    /// The tenant's staff, disabled ones included, by e-mail.
    pub async fn user_accounts(&self, tenant_id: &str) -> Result<Vec<UserAccount>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY email");
        let rows = sqlx::query(&sql).bind(tenant_id).fetch_all(self.reader()).await?;
        rows.iter().map(account_from_row).collect()
    }

    async fn user_account(&self, tenant_id: &str, user_id: &str) -> Result<UserAccount> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(tenant_id).bind(user_id).fetch_optional(self.reader()).await?;
        row.as_ref().map(account_from_row).transpose()?.ok_or(Error::NotFound("user"))
    }

    /// Adds a user to the admin's tenant with a generated password, returned once.
    pub async fn add_user(&self, admin: &StaffUser, email: &str, role: Role) -> Result<(UserAccount, Secret)> {
        let password = generate_password();
        let hash = hash_password(password.clone()).await?;
        let actor = Actor::User(admin.id.clone());
        let user = self.insert_user(&admin.tenant_id, email, role, &hash, &actor).await?;
        Ok((self.user_account(&admin.tenant_id, &user.id).await?, Secret(password)))
    }

    /// Gives a user another role; an admin cannot change their own, so a tenant always keeps one.
    pub async fn set_role(&self, admin: &StaffUser, user_id: &str, role: Role) -> Result<UserAccount> {
        if user_id == admin.id {
            return Err(Error::InvalidState("you cannot change your own role; ask another admin".into()));
        }
        let before = self.user_account(&admin.tenant_id, user_id).await?;
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET role = $1 WHERE id = $2 AND tenant_id = $3")
            .bind(role.as_str())
            .bind(user_id)
            .bind(&admin.tenant_id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &admin.tenant_id,
            &Actor::User(admin.id.clone()),
            "user.role_changed",
            &format!("user:{user_id}"),
            json!({"from": before.role, "to": role}),
        )
        .await?;
        tx.commit().await?;
        self.user_account(&admin.tenant_id, user_id).await
    }

    /// Disables a user: they cannot sign in, and their open sessions end at once.
    pub async fn disable_user(&self, admin: &StaffUser, user_id: &str) -> Result<UserAccount> {
        if user_id == admin.id {
            return Err(Error::InvalidState("you cannot disable your own account".into()));
        }
        let account = self.user_account(&admin.tenant_id, user_id).await?;
        if account.disabled_at_ms.is_some() {
            return Ok(account);
        }
        let now = now_ms();
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET disabled_at_ms = $1 WHERE id = $2 AND tenant_id = $3")
            .bind(now)
            .bind(user_id)
            .bind(&admin.tenant_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE sessions SET revoked_at_ms = $1 WHERE user_id = $2 AND revoked_at_ms IS NULL")
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &admin.tenant_id,
            &Actor::User(admin.id.clone()),
            "user.disabled",
            &format!("user:{user_id}"),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        self.user_account(&admin.tenant_id, user_id).await
    }

    /// The tenant's API keys, newest first.
    pub async fn api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKeyInfo>> {
        let rows = sqlx::query(
            "SELECT id, environment, permissions, created_at_ms, revoked_at_ms FROM api_keys WHERE tenant_id = $1 \
             ORDER BY created_at_ms DESC, id",
        )
        .bind(tenant_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    /// Revokes a key: client systems using it are refused from the next request on.
    pub async fn revoke_api_key(&self, admin: &StaffUser, key_id: &str) -> Result<ApiKeyInfo> {
        let mut tx = self.begin().await?;
        let revoked = sqlx::query(
            "UPDATE api_keys SET revoked_at_ms = $1 WHERE id = $2 AND tenant_id = $3 AND revoked_at_ms IS NULL",
        )
        .bind(now_ms())
        .bind(key_id)
        .bind(&admin.tenant_id)
        .execute(&mut *tx)
        .await?;
        if revoked.rows_affected() == 1 {
            audit::append(
                &mut tx,
                &admin.tenant_id,
                &Actor::User(admin.id.clone()),
                "apikey.revoked",
                &format!("apikey:{key_id}"),
                json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        self.api_keys(&admin.tenant_id).await?.into_iter().find(|k| k.id == key_id).ok_or(Error::NotFound("API key"))
    }
}
