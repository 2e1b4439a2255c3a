//! Tenants, staff users, their sign-in sessions, and client API keys. Passwords are kept as
//! argon2 hashes; session tokens and API keys as SHA-256 of the secret, which is shown once.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use identdesk_domain::{ApiPermission, Environment, Region, Role};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::audit::{self, Actor};
use super::{new_id, now_ms, Store};
use crate::error::{Error, Result};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub region: Region,
}

/// A signed-in staff member, as the API sees them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StaffUser {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub role: Role,
}

/// A client system, identified by its API key.
#[derive(Debug, Clone)]
pub struct ClientKey {
    pub key_id: String,
    pub tenant_id: String,
    pub environment: Environment,
    pub permissions: Vec<ApiPermission>,
}

impl ClientKey {
    /// Refuses what the key was not given.
    pub fn require(&self, permission: ApiPermission) -> Result<()> {
        if self.permissions.contains(&permission) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("this API key does not hold the {permission} permission")))
        }
    }
}

/// The permissions stored with a key, as written in `api_keys.permissions`.
pub(super) fn permissions_from(text: &str) -> Result<Vec<ApiPermission>> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored API key permissions: {e}")))
}

/// A secret shown to its owner once; `Debug` never prints it.
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A password to hand out once: 20 letters and digits that cannot be misread (no 0/O, 1/l/I).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20).map(|_| ALPHABET[rand::Rng::gen_range(&mut rng, 0..ALPHABET.len())] as char).collect()
}

pub(super) fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// Hashes a password with argon2id (OWASP's parameters); CPU-heavy, so off the async threads.
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

async fn password_matches(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A unique-key violation is `ALREADY_EXISTS` with `message`; other errors pass through.
fn exists_already(e: sqlx::Error, message: impl FnOnce() -> String) -> Error {
    let e = Error::from(e);
    if e.is_unique_violation() {
        Error::AlreadyExists(message())
    } else {
        e
    }
}

/// How long a sign-in lasts: one working day.
pub const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;

impl Store {
    pub async fn create_tenant(&self, name: &str, region: Region) -> Result<Tenant> {
        let id = new_id();
        let mut tx = self.begin().await?;
        let inserted = sqlx::query("INSERT INTO tenants (id, name, region, created_at_ms) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(name)
            .bind(region.as_str())
            .bind(now_ms())
            .execute(&mut *tx)
            .await;
        inserted.map_err(|e| exists_already(e, || format!("a tenant named '{name}' exists already")))?;
        audit::start_chain(&mut tx, &id).await?;
        audit::append(
            &mut tx,
            &id,
            &Actor::System,
            "tenant.created",
            &format!("tenant:{id}"),
            json!({"region": region}),
        )
        .await?;
        tx.commit().await?;
        Ok(Tenant { id, name: name.to_owned(), region })
    }

    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        let rows = sqlx::query("SELECT id, name, region FROM tenants ORDER BY created_at_ms, name")
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Tenant {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    region: r.try_get::<String, _>("region")?.parse()?,
                })
            })
            .collect()
    }

    /// Finds a tenant by id or name; with `None`, the only tenant there is.
    pub async fn resolve_tenant(&self, id_or_name: Option<&str>) -> Result<Tenant> {
        let tenants = self.tenants().await?;
        match id_or_name {
            Some(key) => tenants.into_iter().find(|t| t.id == key || t.name == key).ok_or(Error::NotFound("tenant")),
            None if tenants.len() == 1 => Ok(tenants.into_iter().next().expect("one tenant")),
            None if tenants.is_empty() => Err(Error::NotFound("tenant")),
            None => Err(Error::Config(format!(
                "there are {} tenants; name one with --tenant ({})",
                tenants.len(),
                tenants.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// Adds a staff user with an argon2 hash of `password`.
    pub async fn create_user(&self, tenant_id: &str, email: &str, role: Role, password: &str) -> Result<StaffUser> {
        let hash = hash_password(password.to_owned()).await?;
        self.create_user_with_hash(tenant_id, email, role, &hash).await
    }

    /// Adds a staff user whose password was hashed already (bulk set-up hashes once).
    pub async fn create_user_with_hash(
        &self,
        tenant_id: &str,
        email: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<StaffUser> {
        self.insert_user(tenant_id, email, role, password_hash, &Actor::System).await
    }

    /// Adds a staff user; `actor` is who did it, for the audit trail.
    pub(super) async fn insert_user(
        &self,
        tenant_id: &str,
        email: &str,
        role: Role,
        password_hash: &str,
        actor: &Actor,
    ) -> Result<StaffUser> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') {
            return Err(Error::InvalidBody(format!("'{email}' is not an e-mail address")));
        }
        let id = new_id();
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, tenant_id, email, role, password_hash, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(&email)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now_ms())
        .execute(&mut *tx)
        .await;
        inserted.map_err(|e| exists_already(e, || format!("a user with e-mail {email} exists already")))?;
        audit::append(&mut tx, tenant_id, actor, "user.created", &format!("user:{id}"), json!({"role": role})).await?;
        tx.commit().await?;
        Ok(StaffUser { id, tenant_id: tenant_id.to_owned(), email, role })
    }

    /// Replaces a user's password (the demo hands out fresh ones on every run).
    pub async fn set_password(&self, email: &str, password: &str) -> Result<()> {
        let hash = hash_password(password.to_owned()).await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE email = $2")
            .bind(hash)
            .bind(email.trim().to_lowercase())
            .execute(self.writer())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("user"));
        }
        Ok(())
    }

    /// Checks e-mail and password and opens a session; returns the bearer token once.
    pub async fn login(&self, email: &str, password: &str) -> Result<(Secret, i64, StaffUser)> {
        let row = sqlx::query(
            "SELECT id, tenant_id, email, role, password_hash FROM users WHERE email = $1 AND disabled_at_ms IS NULL",
        )
        .bind(email.trim().to_lowercase())
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else {
            // Spend the same time as a real check so that timing does not reveal which e-mails exist.
            let _ = hash_password(password.to_owned()).await;
            return Err(Error::InvalidCredentials);
        };
        let user = StaffUser {
            id: row.try_get("id")?,
            tenant_id: row.try_get("tenant_id")?,
            email: row.try_get("email")?,
            role: row.try_get::<String, _>("role")?.parse()?,
        };
        let subject = format!("user:{}", user.id);
        if !password_matches(password.to_owned(), row.try_get("password_hash")?).await {
            let mut tx = self.begin().await?;
            audit::append(
                &mut tx,
                &user.tenant_id,
                &Actor::User(user.id.clone()),
                "auth.login_failed",
                &subject,
                json!({}),
            )
            .await?;
            tx.commit().await?;
            return Err(Error::InvalidCredentials);
        }
        let token = random_token("idt_");
        let now = now_ms();
        let expires = now + SESSION_TTL_MS;
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4)")
            .bind(sha256_hex(token.as_bytes()))
            .bind(&user.id)
            .bind(now)
            .bind(expires)
            .execute(&mut *tx)
            .await?;
        audit::append(&mut tx, &user.tenant_id, &Actor::User(user.id.clone()), "auth.login", &subject, json!({}))
            .await?;
        tx.commit().await?;
        Ok((Secret(token), expires, user))
    }

    /// The staff user a bearer token belongs to, if the session is still open.
    pub async fn session_user(&self, token: &str) -> Result<StaffUser> {
        let row = sqlx::query(
            "SELECT u.id, u.tenant_id, u.email, u.role, s.expires_at_ms, s.revoked_at_ms, u.disabled_at_ms \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(sha256_hex(token.as_bytes()))
        .fetch_optional(self.reader())
        .await?
        .ok_or(Error::Unauthenticated)?;
        let expires: i64 = row.try_get("expires_at_ms")?;
        let revoked: Option<i64> = row.try_get("revoked_at_ms")?;
        let disabled: Option<i64> = row.try_get("disabled_at_ms")?;
        if revoked.is_some() || disabled.is_some() || expires <= now_ms() {
            return Err(Error::SessionExpired);
        }
        Ok(StaffUser {
            id: row.try_get("id")?,
            tenant_id: row.try_get("tenant_id")?,
            email: row.try_get("email")?,
            role: row.try_get::<String, _>("role")?.parse()?,
        })
    }

    /// Ends a session: the token stops working at once.
    pub async fn logout(&self, token: &str, user: &StaffUser) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE sessions SET revoked_at_ms = $1 WHERE token_hash = $2 AND revoked_at_ms IS NULL")
            .bind(now_ms())
            .bind(sha256_hex(token.as_bytes()))
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &user.tenant_id,
            &Actor::User(user.id.clone()),
            "auth.logout",
            &format!("user:{}", user.id),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates an API key for a client system; the key itself is returned once and stored hashed.
    pub async fn create_api_key(&self, tenant_id: &str, environment: Environment) -> Result<(String, Secret)> {
        self.create_api_key_by(tenant_id, environment, ApiPermission::ALL, &Actor::System).await
    }

    /// Creates an API key; `actor` is who asked for it, for the audit trail.
    pub async fn create_api_key_by(
        &self,
        tenant_id: &str,
        environment: Environment,
        permissions: &[ApiPermission],
        actor: &Actor,
    ) -> Result<(String, Secret)> {
        if permissions.is_empty() {
            return Err(Error::InvalidBody("a key needs at least one permission".into()));
        }
        let mut permissions = permissions.to_vec();
        permissions.sort();
        permissions.dedup();
        let id = new_id();
        let key = random_token(&format!("idk_{}_", environment.as_str()));
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, environment, key_hash, created_at_ms, permissions) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(environment.as_str())
        .bind(sha256_hex(key.as_bytes()))
        .bind(now_ms())
        .bind(serde_json::to_string(&permissions).expect("permissions serialise"))
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            tenant_id,
            actor,
            "apikey.created",
            &format!("apikey:{id}"),
            json!({"environment": environment, "permissions": permissions}),
        )
        .await?;
        tx.commit().await?;
        Ok((id, Secret(key)))
    }

    pub async fn api_key_client(&self, key: &str) -> Result<ClientKey> {
        let row = sqlx::query(
            "SELECT id, tenant_id, environment, permissions FROM api_keys WHERE key_hash = $1 AND revoked_at_ms IS NULL",
        )
        .bind(sha256_hex(key.as_bytes()))
        .fetch_optional(self.reader())
        .await?
        .ok_or(Error::Unauthenticated)?;
        Ok(ClientKey {
            key_id: row.try_get("id")?,
            tenant_id: row.try_get("tenant_id")?,
            environment: row.try_get::<String, _>("environment")?.parse()?,
            permissions: permissions_from(&row.try_get::<String, _>("permissions")?)?,
        })
    }
}

impl Store {
    pub async fn tenant_users(&self, tenant_id: &str) -> Result<Vec<StaffUser>> {
        let rows = sqlx::query("SELECT id, tenant_id, email, role FROM users WHERE tenant_id = $1 ORDER BY email")
            .bind(tenant_id)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(StaffUser {
                    id: r.try_get("id")?,
                    tenant_id: r.try_get("tenant_id")?,
                    email: r.try_get("email")?,
                    role: r.try_get::<String, _>("role")?.parse()?,
                })
            })
            .collect()
    }
}
