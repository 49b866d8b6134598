use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn defaults_are_by_resources_every_60_minutes_without_auto_resolve() {
    let app = spawn_app().await;
    assert_eq!(
        app.load_itsm().await["settings"],
        json!({"grouping": "resources", "scheduler_interval_minutes": 60, "auto_resolve": false, "sources": null, "min_severity": null})
    );
}

#[tokio::test]
async fn grouping_interval_and_auto_resolve_are_saved_and_survive_a_restart() {
    let app = spawn_app().await;
    let answer = app
        .save_itsm(&[
            ("form[grouping]", "controls"),
            ("form[scheduler_interval_minutes]", "15"),
            ("form[auto_resolve]", "true"),
        ])
        .await;
    assert_eq!(answer, json!("Saved"));
    let expected = json!({"grouping": "controls", "scheduler_interval_minutes": 15, "auto_resolve": true, "sources": null, "min_severity": null});
    assert_eq!(app.load_itsm().await["settings"], expected);

    let app = app.restart().await;
    assert_eq!(app.load_itsm().await["settings"], expected);
}

#[tokio::test]
async fn an_unchecked_auto_resolve_turns_it_off() {
    let app = spawn_app().await;
    app.save_itsm(&[
        ("form[grouping]", "controls"),
        ("form[scheduler_interval_minutes]", "15"),
        ("form[auto_resolve]", "true"),
    ])
    .await;
    app.save_itsm(&[
        ("form[grouping]", "resources"),
        ("form[scheduler_interval_minutes]", "30"),
    ])
    .await;
    assert_eq!(
        app.load_itsm().await["settings"],
        json!({"grouping": "resources", "scheduler_interval_minutes": 30, "auto_resolve": false, "sources": null, "min_severity": null})
    );
}

#[tokio::test]
async fn invalid_values_are_refused_and_nothing_changes() {
    let app = spawn_app().await;
    let answer = app
        .save_itsm(&[
            ("form[grouping]", "by-team"),
            ("form[scheduler_interval_minutes]", "1441"),
        ])
        .await;
    let errors = answer["Invalid"].as_object().expect("an Invalid answer");
    assert!(errors.contains_key("grouping") && errors.contains_key("scheduler_interval_minutes"));
    assert_eq!(
        app.load_itsm().await["settings"]["scheduler_interval_minutes"],
        60
    );
}
