//! The rules of API keys: what a key may be called and where it may move stock. Secrets are
//! made and checked in `auth`; here a key is only its name, scope, locations and the hash.

use super::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{ApiKey, Scope};
use crate::store::rows::NewKeyRow;
use crate::validate::{self, MAX_KEY_NAME, MAX_LOCATION};
use uuid::Uuid;

pub(crate) fn create_key(
    ctx: &mut Ctx,
    name: &str,
    scope: Scope,
    locations: Option<&[String]>,
    secret_sha256: &str,
) -> Result<ApiKey> {
    let name = validate::required("name", name, MAX_KEY_NAME)?;
    let locations = locations
        .map(|list| {
            if list.is_empty() {
                return Err(Error::validation(
                    "locations",
                    "locations must name at least one location (leave it out for any)",
                ));
            }
            list.iter()
                .map(|l| validate::required("locations", l, MAX_LOCATION))
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    if secret_sha256.len() != 64 || !secret_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::validation(
            "secret_sha256",
            "secret_sha256 must be 64 hexadecimal digits",
        ));
    }
    if ctx.tx.live_key(&name)?.is_some() {
        return Err(
            Error::conflict(format!("a key named {name:?} already exists")).on_field("name"),
        );
    }
    ctx.tx.insert_key(&NewKeyRow {
        id: Uuid::now_v7(),
        name: &name,
        scope,
        locations: locations.as_deref(),
        secret_sha256: &secret_sha256.to_ascii_lowercase(),
        at: &ctx.now,
    })?;
    ctx.tx
        .live_key(&name)?
        .ok_or_else(|| Error::storage("key vanished after insert"))
}

pub(crate) fn revoke_key(ctx: &mut Ctx, name: &str) -> Result<ApiKey> {
    let mut key = ctx
        .tx
        .live_key(name)?
        .ok_or_else(|| Error::not_found(format!("key {name:?}")))?;
    ctx.tx.revoke_key(name, &ctx.now)?;
    key.revoked_at = Some(ctx.now.at);
    Ok(key)
}
