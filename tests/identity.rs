//! azemu as a cloud and identity provider: cloud metadata, OpenID discovery, the token and
//! managed-identity endpoints with their errors, the subscriptions directory, and every branch
//! of `--auth strict` (401 reasons; 403 by subscription, publisher and role).

mod common;

use std::path::Path;

use azemu::server::AuthMode;
use common::{group_path, with_version, Options, Reply, TestServer, RESOURCES, SUB};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SUBSCRIPTIONS: &str = "2022-12-01";
const PARTNER: &str = "api-version=2017-10-31";

async fn form(s: &TestServer, path: &str, content_type: &str, body: &str) -> Reply {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", s.base))
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body: Value = response.json().await.expect("every answer is JSON");
    Reply { status, headers, body }
}

async fn client_token(s: &TestServer, path: &str, extra: &str) -> Reply {
    let body = format!("grant_type=client_credentials&client_id=ci-app&client_secret=s3cret{extra}");
    form(s, path, "application/x-www-form-urlencoded", &body).await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// `azemu token …` against a data directory, as a user runs it.
fn cli_token(data: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_azemu"))
        .arg("token")
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

async fn strict_server(data: &Path, subscriptions: Vec<&str>) -> TestServer {
    TestServer::start_with(Options {
        auth: AuthMode::Strict,
        data_dir: Some(data.to_path_buf()),
        publishers: vec!["contoso".into(), "fabrikam".into()],
        subscriptions: subscriptions.into_iter().map(|s| s.parse().unwrap()).collect(),
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn cloud_metadata_and_discovery_documents_point_back_at_azemu() {
    let s = TestServer::start().await;
    let origin = s.base.clone();
    for path in ["/metadata/endpoints?api-version=2022-09-01", "//metadata/endpoints?api-version=2019-05-01"] {
        let r = s.send(Method::GET, path, None, &[("authorization", "")]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        assert_eq!(r.body["name"], "azemu");
        assert_eq!(r.body["resourceManager"], format!("{origin}/"));
        assert_eq!(r.body["authentication"]["loginEndpoint"], format!("{origin}/adfs"));
        assert_eq!(r.body["authentication"]["audiences"][0], format!("{origin}/"));
        assert!(r.body["suffixes"].is_object());
    }
    let r = s.send(Method::GET, "/metadata/endpoints", None, &[("authorization", "")]).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "MissingApiVersionParameter"));

    let adfs = s.send(Method::GET, "/adfs/.well-known/openid-configuration", None, &[("authorization", "")]).await;
    assert_eq!(adfs.body["issuer"], format!("{origin}/adfs"));
    assert_eq!(adfs.body["token_endpoint"], format!("{origin}/adfs/oauth2/token"));
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let v2 = s.get(&format!("/{tenant}/v2.0/.well-known/openid-configuration")).await;
    assert_eq!(v2.body["issuer"], format!("{origin}/{tenant}/v2.0"));
    assert_eq!(v2.body["token_endpoint"], format!("{origin}/{tenant}/oauth2/v2.0/token"));
    let keys = s.get(v2.body["jwks_uri"].as_str().unwrap()).await;
    assert_eq!(keys.body["keys"][0]["kty"], "EC");
    assert_eq!(keys.body["keys"][0]["alg"], "ES256");
    let unknown = s.get("/not%20a%20tenant/v2.0/.well-known/openid-configuration").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_token_endpoints_issue_signed_tokens_for_client_credentials() {
    let s = TestServer::start().await;
    let adfs = client_token(&s, "/adfs/oauth2/token", "&scope=https%3A%2F%2F127.0.0.1%3A8443%2F%2F.default").await;
    assert_eq!(adfs.status, StatusCode::OK, "{}", adfs.body);
    assert_eq!(adfs.body["token_type"], "Bearer");
    assert_eq!(adfs.body["expires_in"], 3600);
    assert_eq!(adfs.header("cache-control").as_deref(), Some("no-store, no-cache"));
    let token = claims(adfs.body["access_token"].as_str().unwrap());
    assert_eq!(token["aud"], "https://127.0.0.1:8443/");
    assert_eq!(token["appid"], "ci-app");
    assert_eq!(token["idtyp"], "app");
    for claim in ["tid", "oid", "iat", "exp"] {
        assert!(!token[claim].is_null(), "{claim} is missing: {token}");
    }

    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let v2 = client_token(
        &s,
        &format!("/{tenant}/oauth2/v2.0/token"),
        "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
    )
    .await;
    let token = claims(v2.body["access_token"].as_str().unwrap());
    assert_eq!((token["tid"].as_str(), token["ver"].as_str()), (Some(tenant), Some("2.0")));
    assert_eq!(token["aud"], "https://management.azure.com");
    let v1 = client_token(&s, "/common/oauth2/token", "&resource=https%3A%2F%2Fmanagement.core.windows.net%2F").await;
    assert_eq!(v1.body["resource"], "https://management.core.windows.net/");
    assert!(v1.body["expires_on"].is_string());

    use base64::Engine;
    let part = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let exp = chrono::Utc::now().timestamp() + 600;
    let assertion = format!(
        "{}.{}.c2ln",
        part(json!({"alg": "RS256"})),
        part(json!({"iss": "ci-app", "sub": "ci-app", "exp": exp}))
    );
    let body = format!(
        "grant_type=client_credentials&client_id=ci-app&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
    );
    let r = form(&s, "/adfs/oauth2/token", "application/x-www-form-urlencoded; charset=utf-8", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn bad_token_requests_get_oauth_errors_never_a_5xx() {
    let s = TestServer::start().await;
    let scope = "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default";
    let cases: Vec<(&str, &str, String, StatusCode, &str, u64)> = vec![
        (
            "missing grant",
            "application/x-www-form-urlencoded",
            format!("client_id=a&client_secret=b{scope}"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
        ),
        (
            "unknown grant",
            "application/x-www-form-urlencoded",
            format!("grant_type=password&client_id=a&client_secret=b{scope}"),
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
        ),
        (
            "malformed form",
            "application/x-www-form-urlencoded",
            r#"{"grant_type":"client_credentials"}"#.into(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90014,
        ),
        (
            "wrong content type",
            "application/json",
            r#"{"grant_type":"client_credentials"}"#.into(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
        ),
        (
            "repeated parameter",
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&grant_type=client_credentials&client_id=a&client_secret=b{scope}"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90015,
        ),
        (
            "missing client id",
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&client_secret=b{scope}"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
        ),
        (
            "no credential",
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&client_id=a{scope}"),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000216,
        ),
        (
            "empty secret",
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&client_id=a&client_secret={scope}"),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
        ),
        (
            "missing scope",
            "application/x-www-form-urlencoded",
            "grant_type=client_credentials&client_id=a&client_secret=b".into(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
        ),
        (
            "scope without .default",
            "application/x-www-form-urlencoded",
            "grant_type=client_credentials&client_id=a&client_secret=b&scope=https%3A%2F%2Fx%2Fread".into(),
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
        ),
    ];
    for (what, content_type, body, status, error, code) in cases {
        let r = form(&s, "/adfs/oauth2/token", content_type, &body).await;
        assert_eq!((r.status, r.body["error"].as_str()), (status, Some(error)), "{what}: {}", r.body);
        assert_eq!(r.body["error_codes"], json!([code]), "{what}");
        assert!(r.body["error_description"].as_str().unwrap().starts_with(&format!("AADSTS{code}: ")), "{what}");
    }
    let get = s.send(Method::GET, "/adfs/oauth2/token", None, &[]).await;
    assert_eq!((get.status, get.body["error"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("invalid_request")));
    let raw = reqwest::Client::new()
        .post(format!("{}/adfs/oauth2/token", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'g', 0xff, 0xfe])
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    let bad_tenant = client_token(&s, "/no%20such%20tenant/oauth2/v2.0/token", scope).await;
    assert_eq!(
        (bad_tenant.status, bad_tenant.body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_tenant"))
    );
}

#[tokio::test]
async fn managed_identity_endpoints_answer_as_app_service_and_imds_do() {
    let s = TestServer::start().await;
    let resource = "resource=https%3A%2F%2Fmanagement.azure.com%2F";
    let app_service = |query: String, header: Option<&'static str>| {
        let s = &s;
        async move {
            let headers: Vec<(&str, &str)> = header.map(|h| vec![("x-identity-header", h)]).unwrap_or_default();
            s.send(Method::GET, &format!("/msi/token?{query}"), None, &headers).await
        }
    };
    let ok = app_service(format!("api-version=2019-08-01&{resource}"), Some("secret")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body["expires_on"].is_string());
    assert_eq!(ok.body["resource"], "https://management.azure.com/");
    let token = claims(ok.body["access_token"].as_str().unwrap());
    assert!(token["xms_mirid"].as_str().unwrap().contains("/virtualMachines/"));
    let raw = app_service("api-version=2019-08-01&resource=https://management.azure.com/".into(), Some("secret")).await;
    assert_eq!(raw.body["resource"], "https://management.azure.com/");
    let twice = app_service(
        "api-version=2019-08-01&resource=https%253A%252F%252Fmanagement.azure.com%252F".into(),
        Some("secret"),
    )
    .await;
    assert_eq!(twice.body["resource"], "https://management.azure.com/");
    let user = app_service(format!("api-version=2019-08-01&{resource}&client_id=build-agent"), Some("secret")).await;
    assert!(claims(user.body["access_token"].as_str().unwrap())["xms_mirid"]
        .as_str()
        .unwrap()
        .ends_with("/build-agent"));
    assert_eq!(app_service(format!("api-version=2019-08-01&{resource}"), None).await.status, StatusCode::UNAUTHORIZED);
    let old = app_service(format!("api-version=2017-09-01&{resource}"), Some("secret")).await;
    assert_eq!((old.status, old.body["statusCode"].as_u64()), (StatusCode::BAD_REQUEST, Some(400)));
    assert_eq!(app_service("api-version=2019-08-01".into(), Some("secret")).await.status, StatusCode::BAD_REQUEST);

    let imds = |query: String, metadata: bool| {
        let s = &s;
        async move {
            let headers: Vec<(&str, &str)> = if metadata { vec![("metadata", "true")] } else { vec![] };
            s.send(Method::GET, &format!("/metadata/identity/oauth2/token?{query}"), None, &headers).await
        }
    };
    let ok = imds(format!("api-version=2018-02-01&{resource}"), true).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["expires_in"], "86400");
    assert_eq!(ok.body["token_type"], "Bearer");
    for (query, metadata, description) in [
        (format!("api-version=2018-02-01&{resource}"), false, "Required metadata header not specified"),
        (resource.to_string(), true, "Required query variable 'api-version' is missing"),
        ("api-version=2018-02-01".to_string(), true, "Required audience parameter not specified"),
    ] {
        let r = imds(query, metadata).await;
        assert_eq!((r.status, r.body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
        assert_eq!(r.body["error_description"], description);
    }
}

#[tokio::test]
async fn subscriptions_are_declared_or_found_and_tenants_listed() {
    let declared = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
    let s = TestServer::start_with(Options {
        subscriptions: vec![format!("{declared}=Team CI").parse().unwrap()],
        ..Options::default()
    })
    .await;
    s.create_group("found-rg").await;
    let list = s.get(&format!("/subscriptions?api-version={SUBSCRIPTIONS}")).await;
    let ids: Vec<&str> =
        list.body["value"].as_array().unwrap().iter().map(|v| v["subscriptionId"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![declared, SUB]);
    let one = s.get(&format!("/subscriptions/{declared}?api-version={SUBSCRIPTIONS}")).await;
    assert_eq!(one.body["displayName"], "Team CI");
    assert_eq!(one.body["state"], "Enabled");
    assert_eq!(one.body["managedByTenants"], json!([]));
    assert_eq!(one.body["tenantId"], "7e5a1e00-a2e0-4c0d-8e00-000000000001");
    let missing =
        s.get(&format!("/subscriptions/9a0e6b5e-0000-4000-8000-000000000000?api-version={SUBSCRIPTIONS}")).await;
    assert_eq!((missing.status, missing.error_code()), (StatusCode::NOT_FOUND, "SubscriptionNotFound"));
    let wrong = s.get("/subscriptions?api-version=2031-01-01").await;
    assert_eq!((wrong.status, wrong.error_code()), (StatusCode::BAD_REQUEST, "InvalidApiVersionParameter"));
    let tenants = s.get("/tenants?api-version=2022-12-01").await;
    assert_eq!(tenants.body["value"][0]["tenantId"], "7e5a1e00-a2e0-4c0d-8e00-000000000001");
    let put = s.put(&format!("/subscriptions/{declared}?api-version={SUBSCRIPTIONS}"), json!({})).await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);

    let plain = TestServer::start().await;
    let list = plain.get(&format!("/subscriptions?api-version={SUBSCRIPTIONS}")).await;
    assert_eq!(list.body["value"][0]["subscriptionId"], "00000000-0000-0000-0000-000000000000");
}

#[tokio::test]
async fn strict_auth_refuses_tokens_azemu_did_not_sign_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let s = strict_server(data.path(), vec![]).await;
    let path = with_version(&group_path("strict-rg"), RESOURCES);
    let get = |authorization: String| {
        let (s, path) = (&s, &path);
        async move { s.send(Method::GET, path, None, &[("authorization", authorization.as_str())]).await }
    };
    let missing = s.send(Method::GET, &path, None, &[("authorization", "")]).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    for (authorization, reason) in [
        (bearer("opaque"), "not a JSON Web Token"),
        (bearer("eyJhbGciOiJub25lIn0.eyJhcHBpZCI6IngifQ.c2ln"), "signature is invalid"),
        (bearer(&cli_token(data.path(), &["--lifetime", "0s"])), "expiry UTC time"),
        (bearer(&cli_token(data.path(), &["--audience", "https://vault.azure.net"])), "wrong audience"),
        (bearer(&cli_token(tempfile::tempdir().unwrap().path(), &[])), "signature is invalid"),
    ] {
        let r = get(authorization).await;
        assert_eq!(
            (r.status, r.error_code()),
            (StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken"),
            "{reason}: {}",
            r.body
        );
        assert!(r.body["error"]["message"].as_str().unwrap().contains(reason), "{reason}: {}", r.body);
    }
    // Tokens from its own endpoints work, for ARM's audiences and azemu's own.
    for scope in [
        "https%3A%2F%2Fmanagement.azure.com%2F.default",
        &format!("{}%2F%2F.default", s.base.replace(':', "%3A").replace('/', "%2F")),
    ] {
        let issued = client_token(&s, "/adfs/oauth2/token", &format!("&scope={scope}")).await;
        let r = s.put(&path, json!({"location": "westus"})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "the test token is no token under strict");
        let token = bearer(issued.body["access_token"].as_str().unwrap());
        let r =
            s.send(Method::PUT, &path, Some(json!({"location": "westus"})), &[("authorization", token.as_str())]).await;
        assert!(r.status.is_success(), "{scope}: {}", r.body);
        assert_eq!(r.body["systemData"]["createdBy"], "ci-app");
        assert_eq!(r.body["systemData"]["createdByType"], "Application");
    }
    let mi = s
        .send(
            Method::GET,
            "/msi/token?api-version=2019-08-01&resource=https://management.azure.com/",
            None,
            &[("x-identity-header", "x")],
        )
        .await;
    let r = get(bearer(mi.body["access_token"].as_str().unwrap())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn limited_tokens_reach_only_their_subscriptions_publishers_and_role() {
    let data = tempfile::tempdir().unwrap();
    let other = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
    let s = strict_server(data.path(), vec![SUB, other]).await;
    let send = |method: Method, path: String, body: Option<Value>, token: String| {
        let s = &s;
        async move { s.send(method, &path, body, &[("authorization", bearer(&token).as_str())]).await }
    };
    let ours = cli_token(data.path(), &["--subscription", SUB]);
    let group = with_version(&group_path("limited-rg"), RESOURCES);
    let made = send(Method::PUT, group.clone(), Some(json!({"location": "westus"})), ours.clone()).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let elsewhere = with_version(&format!("/subscriptions/{other}/resourcegroups/limited-rg"), RESOURCES);
    let refused = send(Method::PUT, elsewhere, Some(json!({"location": "westus"})), ours.clone()).await;
    assert_eq!((refused.status, refused.error_code()), (StatusCode::FORBIDDEN, "AuthorizationFailed"));
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("'Microsoft.Resources/subscriptions/resourceGroups/write'"), "{message}");
    assert!(message.contains(&format!("over scope '/subscriptions/{other}/resourcegroups/limited-rg'")), "{message}");
    let listed = send(Method::GET, format!("/subscriptions?api-version={SUBSCRIPTIONS}"), None, ours.clone()).await;
    assert_eq!(listed.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["value"][0]["subscriptionId"], SUB);
    let hidden =
        send(Method::GET, format!("/subscriptions/{other}?api-version={SUBSCRIPTIONS}"), None, ours.clone()).await;
    assert_eq!(hidden.status, StatusCode::FORBIDDEN);
    let no_publisher = send(
        Method::GET,
        format!("/api/publishers/contoso?{PARTNER}"),
        None,
        cli_token(data.path(), &["--subscription", SUB, "--audience", "https://cloudpartner.azure.com"]),
    )
    .await;
    assert_eq!((no_publisher.status, no_publisher.error_code()), (StatusCode::FORBIDDEN, "AuthorizationFailed"));

    let reader = cli_token(data.path(), &["--subscription", SUB, "--role", "reader"]);
    assert_eq!(send(Method::GET, group.clone(), None, reader.clone()).await.status, StatusCode::OK);
    // The answer kept for that GET is not given to a token for another subscription.
    let theirs_only = cli_token(data.path(), &["--subscription", other]);
    let kept = send(Method::GET, group.clone(), None, theirs_only).await;
    assert_eq!((kept.status, kept.error_code()), (StatusCode::FORBIDDEN, "AuthorizationFailed"));
    let write = send(Method::DELETE, group.clone(), None, reader.clone()).await;
    assert_eq!((write.status, write.error_code()), (StatusCode::FORBIDDEN, "AuthorizationFailed"));
    assert!(write.body["error"]["message"].as_str().unwrap().contains("resourceGroups/delete"));
    let providers = format!("/subscriptions/{SUB}/providers/Microsoft.Compute");
    let shown = send(Method::GET, format!("{providers}?api-version={RESOURCES}"), None, reader.clone()).await;
    assert_eq!(shown.status, StatusCode::OK);
    let register =
        send(Method::POST, format!("{providers}/register?api-version={RESOURCES}"), None, reader.clone()).await;
    assert_eq!((register.status, register.error_code()), (StatusCode::FORBIDDEN, "AuthorizationFailed"));
    assert!(register.body["error"]["message"].as_str().unwrap().contains("'Microsoft.Compute/register/action'"));
    let tags = format!("/subscriptions/{SUB}/resourcegroups/limited-rg/providers/Microsoft.Resources/tags/default?api-version={RESOURCES}");
    let tagged = send(Method::PUT, tags, Some(json!({"properties": {"tags": {"a": "b"}}})), reader.clone()).await;
    assert_eq!(tagged.status, StatusCode::FORBIDDEN);
    let theirs = format!("/subscriptions/{other}/resources?api-version={RESOURCES}");
    assert_eq!(send(Method::GET, theirs, None, reader.clone()).await.status, StatusCode::FORBIDDEN);

    let publisher = cli_token(data.path(), &["--publisher", "contoso"]);
    let list = send(Method::GET, format!("/api/publishers?{PARTNER}"), None, publisher.clone()).await;
    assert_eq!(
        list.body.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect::<Vec<_>>(),
        vec!["contoso"]
    );
    assert_eq!(
        send(Method::GET, format!("/api/publishers/contoso?{PARTNER}"), None, publisher.clone()).await.status,
        StatusCode::OK
    );
    let theirs = send(Method::GET, format!("/api/publishers/fabrikam/offers?{PARTNER}"), None, publisher.clone()).await;
    assert_eq!((theirs.status, theirs.error_code()), (StatusCode::FORBIDDEN, "AuthorizationFailed"));
    let arm = send(Method::GET, group.clone(), None, publisher.clone()).await;
    assert_eq!(arm.status, StatusCode::UNAUTHORIZED, "a partner-audience token is not for ARM: {}", arm.body);
    let publisher_reader = cli_token(data.path(), &["--publisher", "contoso", "--role", "reader"]);
    let offer = json!({"offerTypeId": "microsoft-azure-virtualmachines", "publisherId": "contoso", "id": "o1", "definition": {}});
    let refused =
        send(Method::PUT, format!("/api/publishers/contoso/offers/o1?{PARTNER}"), Some(offer), publisher_reader).await;
    assert_eq!((refused.status, refused.error_code()), (StatusCode::FORBIDDEN, "AuthorizationFailed"));
}
