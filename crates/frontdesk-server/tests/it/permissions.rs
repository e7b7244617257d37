//! The one permission check: every route of the table, with every role.

use frontdesk_core::model::Role;
use frontdesk_core::permissions::allows;
use frontdesk_server::routes::Access;
use reqwest::Method;
use serde_json::json;

use crate::both_backends;
use crate::common::TestApp;

fn concrete(path: &str) -> String {
    // Path parameters get an id that does not exist: handlers answer 404,
    // which still proves the permission check let the call through.
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "987654".to_owned() } else { seg.to_owned() })
        .collect::<Vec<_>>()
        .join("/")
}

async fn every_route_with_every_role(app: TestApp) {
    let defs = frontdesk_server::routes::all(app.state.clone()).into_parts().1;
    assert!(defs.len() > 30, "the route table is complete");
    let mut checked = 0;
    for (i, (role, seat)) in [
        (Role::Viewer, true),
        (Role::Agent, true),
        (Role::Agent, false),
        (Role::Editor, false),
        (Role::Editor, true),
        (Role::Admin, true),
    ]
    .into_iter()
    .enumerate()
    {
        let (_, key) = app.user_with_key(&format!("u{i}@perm.example"), role, seat).await;
        for def in &defs {
            let Access::User(perm) = def.access else { continue };
            let path = concrete(def.path);
            let method = Method::from_bytes(def.method.as_str().as_bytes()).unwrap();
            // Logging out would end nothing for an API key, but skip it to keep the key usable.
            if path.ends_with("/logout") {
                continue;
            }
            let mut rb = app.client.request(method.clone(), app.url(&path)).bearer_auth(&key);
            if method != Method::GET {
                rb = rb.json(&json!({}));
            }
            let status = rb.send().await.unwrap().status().as_u16();
            let expected = allows(role, seat, perm);
            if expected {
                assert!(
                    status != 401 && status != 403,
                    "{role:?} seat={seat} {method} {path}: allowed but got {status}"
                );
            } else {
                assert_eq!(status, 403, "{role:?} seat={seat} {method} {path}: forbidden but got {status}");
            }
            checked += 1;
        }
    }
    assert!(checked > 150, "{checked}");

    // Without credentials: 401 for the API, a redirect to the login page for the console.
    for def in &defs {
        let Access::User(_) = def.access else { continue };
        let path = concrete(def.path);
        let method = Method::from_bytes(def.method.as_str().as_bytes()).unwrap();
        let status = app.client.request(method.clone(), app.url(&path)).send().await.unwrap().status().as_u16();
        if path.starts_with("/api/") {
            assert_eq!(status, 401, "{method} {path}");
        } else {
            assert!(status == 303 || status == 307 || status == 302, "{method} {path}: {status}");
        }
    }
}
both_backends!(every_route_with_every_role);

async fn sessions_need_csrf_and_disabled_users_are_locked_out(app: TestApp) {
    let (uid, _) = app.user_with_key("eve@test.example", Role::Editor, true).await;
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "eve@test.example", "password": "wrong-one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "eve@test.example", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();
    let body: serde_json::Value = r.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();

    let put = |csrf: Option<String>| {
        let mut rb = app.client.put(app.url("/api/v1/agent")).header("cookie", &session).json(&json!({"name": "Nova"}));
        if let Some(c) = csrf {
            rb = rb.header("x-csrf-token", c);
        }
        rb.send()
    };
    let r = put(None).await.unwrap();
    assert_eq!(r.status(), 403);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["code"], "csrf_failed");
    let r = put(Some("forged".into())).await.unwrap();
    assert_eq!(r.status(), 403);
    let r = put(Some(csrf.clone())).await.unwrap();
    assert_eq!(r.status(), 200);
    // GET needs no CSRF token.
    let r = app.client.get(app.url("/api/v1/agent")).header("cookie", &session).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // Disabling the user ends their session: a clear 401 and no change.
    app.admin(Method::PATCH, &format!("/api/v1/users/{uid}"), Some(json!({"disabled": true}))).await;
    let r = app
        .client
        .put(app.url("/api/v1/agent"))
        .header("cookie", &session)
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "Evil"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (_, p) = app.admin(Method::GET, "/api/v1/agent", None).await;
    assert_eq!(p["name"], "Nova");
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "eve@test.example", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
both_backends!(sessions_need_csrf_and_disabled_users_are_locked_out);
