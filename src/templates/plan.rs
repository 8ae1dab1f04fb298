//! The plan of a deployment: every resource instance a template declares (copy loops expanded,
//! conditions applied, child resources flattened), its id, and the instances it waits for, in
//! an order that puts each after what it depends on. A resource's body is not evaluated here:
//! it may `reference()` what is deployed before it, so it is evaluated when its turn comes.

use serde_json::Value;

use super::context::Context;
use super::evaluate::EvalError;
use super::fields::field;
use super::ids;

/// One resource instance to deploy (or, `existing`, only to refer to).
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The symbolic name of a `languageVersion: "2.0"` template.
    pub symbolic: Option<String>,
    /// The copy loop that made it, and its index (to evaluate its body with).
    pub copy: Option<(String, i64)>,
    pub id: String,
    pub resource_type: String,
    pub name: String,
    pub api_version: String,
    pub existing: bool,
    /// Its declaration as written (the body is evaluated when it is deployed).
    pub declaration: Value,
    /// Indexes of the planned instances it waits for.
    pub depends_on: Vec<usize>,
}

/// Why a template cannot be planned (ARM: `InvalidTemplate`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanError(pub String);

impl From<EvalError> for PlanError {
    fn from(e: EvalError) -> PlanError {
        PlanError(e.0)
    }
}

/// A declaration with the parent a child resource is declared in.
struct Declared<'a> {
    symbolic: Option<String>,
    value: &'a Value,
    parent: Option<(String, String)>,
}

fn text(ctx: &Context, declaration: &Value, key: &str) -> Result<String, PlanError> {
    match field(declaration, key).map(|v| ctx.value(v)).transpose()? {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(PlanError(format!("A resource's '{key}' must be a string, not {other}."))),
        None => Err(PlanError(format!("A resource has no '{key}'."))),
    }
}

/// The declarations of `resources`, an array (languageVersion 1) or an object keyed by symbolic
/// names (2.0), with the child resources nested in them.
fn declarations(template: &Value) -> Result<Vec<(Option<String>, &Value)>, PlanError> {
    Ok(match field(template, "resources") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(|v| (None, v)).collect(),
        Some(Value::Object(named)) => named.iter().map(|(k, v)| (Some(k.clone()), v)).collect(),
        Some(other) => {
            return Err(PlanError(format!("The template's 'resources' must be an array or an object, not {other}.")))
        }
    })
}

fn instance(ctx: &Context, declared: &Declared, copy: Option<(String, i64)>) -> Result<Planned, PlanError> {
    let d = declared.value;
    let (mut resource_type, mut name) = (text(ctx, d, "type")?, text(ctx, d, "name")?);
    if let Some((parent_type, parent_name)) = &declared.parent {
        // A child declared inside its parent may give its type and name short.
        if !resource_type.contains('/') {
            resource_type = format!("{parent_type}/{resource_type}");
        }
        if name.split('/').count() < resource_type.split('/').count() - 1 {
            name = format!("{parent_name}/{name}");
        }
    }
    let api_version = match field(d, "apiVersion") {
        Some(_) => text(ctx, d, "apiVersion")?,
        None => String::new(),
    };
    // A nested deployment (or an existing resource) may live in another resource group or
    // subscription.
    let mut place = ctx.place.clone();
    if let Some(Value::String(subscription)) = field(d, "subscriptionId").map(|v| ctx.value(v)).transpose()? {
        place.subscription = subscription;
        place.resource_group = None;
    }
    if let Some(Value::String(group)) = field(d, "resourceGroup").map(|v| ctx.value(v)).transpose()? {
        place.resource_group = Some(group);
    }
    let id = match field(d, "scope").map(|s| ctx.value(s)).transpose()? {
        Some(Value::String(scope)) => ids::extension_resource_id(&[&scope, &resource_type, &name])?,
        _ => ids::resource_id(&place, &[&resource_type, &name])?,
    };
    let existing = field(d, "existing").and_then(Value::as_bool).unwrap_or(false);
    Ok(Planned {
        symbolic: declared.symbolic.clone(),
        copy,
        id,
        resource_type,
        name,
        api_version,
        existing,
        declaration: d.clone(),
        depends_on: Vec::new(),
    })
}

/// Expands one declaration into its instances; returns them with the serial batches of a
/// `mode: serial` loop (each batch waits for the one before).
fn expand(ctx: &mut Context, declared: &Declared) -> Result<(Vec<Planned>, Option<usize>), PlanError> {
    let Some(copy) = field(declared.value, "copy") else {
        if let Some(condition) = field(declared.value, "condition") {
            if ctx.value(condition)? == Value::Bool(false) {
                return Ok((Vec::new(), None));
            }
        }
        return Ok((vec![instance(ctx, declared, None)?], None));
    };
    let loop_name = field(copy, "name").and_then(Value::as_str).unwrap_or_default().to_string();
    let count = match field(copy, "count").map(|c| ctx.value(c)).transpose()? {
        Some(Value::Number(n)) if n.as_i64().is_some_and(|n| (0..=800).contains(&n)) => n.as_i64().unwrap_or(0),
        other => {
            let other = other.unwrap_or(Value::Null);
            return Err(PlanError(format!("The copy loop '{loop_name}' needs a count from 0 to 800, not {other}.")));
        }
    };
    let serial = field(copy, "mode").and_then(Value::as_str).is_some_and(|m| m.eq_ignore_ascii_case("serial"));
    let batch = serial.then(|| field(copy, "batchSize").and_then(Value::as_i64).unwrap_or(1).max(1) as usize);
    let mut instances = Vec::new();
    for i in 0..count {
        ctx.copies.push((Some(loop_name.clone()), i));
        let made = (|| {
            if let Some(condition) = field(declared.value, "condition") {
                if ctx.value(condition)? == Value::Bool(false) {
                    return Ok(None);
                }
            }
            instance(ctx, declared, Some((loop_name.clone(), i))).map(Some)
        })();
        ctx.copies.pop();
        instances.extend(made?);
    }
    Ok((instances, batch))
}

/// What a `dependsOn` entry names: a symbolic name, a copy loop, a resource id, or a
/// `type/name` or name the id ends with.
fn matching(planned: &[Planned], reference: &str) -> Vec<usize> {
    let lower = reference.to_ascii_lowercase();
    let by = |test: &dyn Fn(&Planned) -> bool| {
        planned.iter().enumerate().filter(|(_, p)| test(p)).map(|(i, _)| i).collect::<Vec<_>>()
    };
    for found in [
        by(&|p| p.symbolic.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(reference))),
        by(&|p| p.copy.as_ref().is_some_and(|(name, _)| name.eq_ignore_ascii_case(reference))),
        by(&|p| p.id.eq_ignore_ascii_case(reference)),
        by(&|p| {
            let id = p.id.to_ascii_lowercase();
            id.ends_with(&format!("/{lower}")) || p.name.eq_ignore_ascii_case(reference)
        }),
    ] {
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// Plans `template`'s resources in `ctx` (its parameters and variables already resolved).
pub fn plan(template: &Value, ctx: &mut Context) -> Result<Vec<Planned>, PlanError> {
    let mut queue: Vec<Declared> = declarations(template)?
        .into_iter()
        .map(|(symbolic, value)| Declared { symbolic, value, parent: None })
        .collect();
    let mut planned: Vec<Planned> = Vec::new();
    // Each instance's own dependsOn, the instances it waits for implicitly (parent, batch), and
    // what its expressions `reference()`.
    let mut waits: Vec<(Vec<String>, Vec<usize>, Vec<String>)> = Vec::new();
    let mut next = 0;
    while next < queue.len() {
        let (instances, batch) = expand(ctx, &queue[next])?;
        let first = planned.len();
        let children: Vec<&Value> =
            field(queue[next].value, "resources").and_then(Value::as_array).into_iter().flatten().collect();
        if !children.is_empty() && field(queue[next].value, "copy").is_some() {
            return Err(PlanError(
                "Child resources declared inside a copied resource are not supported; declare them at the top level."
                    .into(),
            ));
        }
        let parent_index = queue[next].parent.as_ref().and_then(|(t, n)| {
            planned.iter().position(|p| p.resource_type.eq_ignore_ascii_case(t) && p.name.eq_ignore_ascii_case(n))
        });
        for (k, instance) in instances.into_iter().enumerate() {
            // A copied instance's dependsOn may use copyIndex().
            let in_loop = instance.copy.clone().map(|(loop_name, i)| (Some(loop_name), i));
            let looped = in_loop.is_some();
            ctx.copies.extend(in_loop);
            let depends = field(&instance.declaration, "dependsOn")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|d| match ctx.value(d)? {
                    Value::String(s) => Ok(s),
                    other => Err(PlanError(format!("A dependsOn entry must be a string, not {other}."))),
                })
                .collect::<Result<Vec<_>, PlanError>>();
            let referenced = super::references::referenced(&instance.declaration, ctx);
            if looped {
                ctx.copies.pop();
            }
            let mut implicit: Vec<usize> = parent_index.into_iter().collect();
            if let Some(size) = batch {
                let batch_start = first + (k / size) * size;
                if batch_start > first {
                    implicit.extend((batch_start - size)..batch_start);
                }
            }
            planned.push(instance);
            waits.push((depends?, implicit, referenced));
        }
        if let Some(parent) = planned.get(first).filter(|_| !children.is_empty()) {
            let parent = (parent.resource_type.clone(), parent.name.clone());
            for child in children {
                queue.push(Declared { symbolic: None, value: child, parent: Some(parent.clone()) });
            }
        }
        next += 1;
    }
    for (i, (named, implicit, referenced)) in waits.into_iter().enumerate() {
        let mut depends = implicit;
        // A reference to something the template does not deploy is no dependency.
        for reference in referenced {
            depends.extend(matching(&planned, &reference).into_iter().filter(|j| *j != i));
        }
        for reference in named {
            let found = matching(&planned, &reference);
            if found.is_empty() {
                return Err(PlanError(format!("The resource '{reference}' is not defined in the template.")));
            }
            depends.extend(found.into_iter().filter(|j| *j != i));
        }
        depends.sort_unstable();
        depends.dedup();
        planned[i].depends_on = depends;
    }
    ordered(planned)
}

/// Puts every instance after what it depends on (keeping the template's order otherwise), or
/// names a resource on a circle.
fn ordered(planned: Vec<Planned>) -> Result<Vec<Planned>, PlanError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Visiting,
        Done,
    }
    fn visit(i: usize, planned: &[Planned], marks: &mut [Mark], order: &mut Vec<usize>) -> Result<(), PlanError> {
        match marks[i] {
            Mark::Done => return Ok(()),
            Mark::Visiting => {
                return Err(PlanError(format!("Circular dependency detected on resource: '{}'.", planned[i].id)))
            }
            Mark::New => {}
        }
        marks[i] = Mark::Visiting;
        for &j in &planned[i].depends_on {
            visit(j, planned, marks, order)?;
        }
        marks[i] = Mark::Done;
        order.push(i);
        Ok(())
    }
    let mut marks = vec![Mark::New; planned.len()];
    let mut order = Vec::with_capacity(planned.len());
    for i in 0..planned.len() {
        visit(i, &planned, &mut marks, &mut order)?;
    }
    let mut position = vec![0; planned.len()];
    for (at, &i) in order.iter().enumerate() {
        position[i] = at;
    }
    let mut result: Vec<Planned> = order.iter().map(|&i| planned[i].clone()).collect();
    for p in &mut result {
        p.depends_on = p.depends_on.iter().map(|&j| position[j]).collect();
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::ids::Place;
    use serde_json::json;

    fn context(parameters: Value) -> Context {
        Context {
            place: Place { subscription: "s".into(), resource_group: Some("rg".into()) },
            resource_group: Some(
                json!({ "id": "/subscriptions/s/resourceGroups/rg", "name": "rg", "location": "westus" }),
            ),
            subscription: json!({ "subscriptionId": "s" }),
            tenant_id: "t".into(),
            deployment: json!({ "name": "main" }),
            parameters: parameters.as_object().cloned().unwrap_or_default(),
            ..Context::default()
        }
    }

    fn ids_of(plan: &[Planned]) -> Vec<String> {
        plan.iter().map(|p| p.id.rsplit("/providers/").next().unwrap().to_string()).collect()
    }

    #[test]
    fn copy_loops_conditions_and_children_expand_in_dependency_order() {
        let template = json!({ "resources": [
            { "type": "Microsoft.Compute/virtualMachineScaleSets", "apiVersion": "2024-07-01",
              "name": "[concat('web-', copyIndex())]", "copy": { "name": "sets", "count": "[parameters('count')]" },
              "dependsOn": ["[resourceId('Microsoft.Network/virtualNetworks', 'vnet')]"] },
            { "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2022-01-01", "name": "vnet",
              "resources": [{ "type": "subnets", "apiVersion": "2022-01-01", "name": "default" }] },
            { "type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2022-01-01", "name": "ip", "condition": "[equals(parameters('count'), 0)]" },
            { "type": "Microsoft.Resources/tags", "name": "default", "scope": "[resourceId('Microsoft.Network/virtualNetworks', 'vnet')]", "dependsOn": ["sets"] }
        ]});
        let plan = plan(&template, &mut context(json!({ "count": 2 }))).unwrap();
        assert_eq!(
            ids_of(&plan),
            [
                "Microsoft.Network/virtualNetworks/vnet",
                "Microsoft.Compute/virtualMachineScaleSets/web-0",
                "Microsoft.Compute/virtualMachineScaleSets/web-1",
                "Microsoft.Resources/tags/default",
                "Microsoft.Network/virtualNetworks/vnet/subnets/default"
            ],
            "children come after the declarations at the top"
        );
        assert_eq!(plan[1].depends_on, [0]);
        assert_eq!(plan[4].depends_on, [0], "a child waits for its parent");
        assert_eq!(plan[3].depends_on, [1, 2], "a loop's name stands for all its instances");
        assert_eq!(plan[3].id, "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/providers/Microsoft.Resources/tags/default");
        assert_eq!(plan[2].copy, Some(("sets".into(), 1)));
    }

    #[test]
    fn symbolic_names_existing_resources_and_serial_batches() {
        let template = json!({ "languageVersion": "2.0", "resources": {
            "group": { "type": "Microsoft.Resources/resourceGroups", "apiVersion": "2021-04-01", "name": "rg", "existing": true },
            "disks": { "type": "Microsoft.Compute/disks", "apiVersion": "2024-03-02", "name": "[format('d{0}', copyIndex())]",
                       "copy": { "name": "disks", "count": 4, "mode": "serial", "batchSize": 2 } },
            "app": { "type": "Microsoft.Web/sites", "apiVersion": "2023-01-01", "name": "app", "dependsOn": ["disks", "group"] }
        }});
        let plan = plan(&template, &mut context(json!({}))).unwrap();
        let by_name = |n: &str| plan.iter().position(|p| p.name == n).unwrap();
        assert!(plan[by_name("rg")].existing);
        assert_eq!(
            plan[by_name("d2")].depends_on,
            [by_name("d0"), by_name("d1")],
            "the second batch waits for the first"
        );
        assert!(plan[by_name("d1")].depends_on.is_empty());
        assert_eq!(plan[by_name("app")].depends_on.len(), 5);
        assert_eq!(plan[by_name("app")].symbolic.as_deref(), Some("app"));
    }

    #[test]
    fn a_reference_to_a_resource_of_the_template_is_a_dependency() {
        let template = json!({ "resources": [
            { "type": "Microsoft.Web/sites", "name": "site",
              "properties": { "ip": "[reference(resourceId('Microsoft.Network/publicIPAddresses', 'ip')).ipAddress]",
                              "key": "[listKeys('store', '2023-01-01').keys[0].value]",
                              "outside": "[reference('/subscriptions/x/resourceGroups/y/providers/A.B/c/d').v]" } },
            { "type": "Microsoft.Network/publicIPAddresses", "name": "ip" },
            { "type": "Microsoft.Storage/storageAccounts", "name": "store" },
            { "type": "Microsoft.Resources/deployments", "name": "nested",
              "properties": { "template": { "outputs": { "o": { "value": "[reference('ip').x]" } } } } }
        ]});
        let plan = plan(&template, &mut context(json!({}))).unwrap();
        let index = |name: &str| plan.iter().position(|p| p.name == name).unwrap();
        let mut site = plan[index("site")].depends_on.clone();
        site.sort_unstable();
        let mut wanted = vec![index("ip"), index("store")];
        wanted.sort_unstable();
        assert_eq!(site, wanted, "implicit dependencies; one outside the template is none");
        assert!(index("site") > index("ip") && index("site") > index("store"));
        assert!(plan[index("nested")].depends_on.is_empty(), "a nested template's own references are its own");
    }

    #[test]
    fn unknown_and_circular_dependencies_are_refused() {
        let unknown =
            json!({ "resources": [{ "type": "Microsoft.Web/sites", "name": "a", "dependsOn": ["nowhere"] }] });
        assert!(plan(&unknown, &mut context(json!({}))).unwrap_err().0.contains("'nowhere' is not defined"));
        let circle = json!({ "resources": [
            { "type": "Microsoft.Web/sites", "name": "a", "dependsOn": ["Microsoft.Web/sites/b"] },
            { "type": "Microsoft.Web/sites", "name": "b", "dependsOn": ["[resourceId('Microsoft.Web/sites', 'a')]"] }
        ]});
        assert!(plan(&circle, &mut context(json!({}))).unwrap_err().0.contains("Circular dependency detected"));
        let bad_count = json!({ "resources": [{ "type": "Microsoft.Web/sites", "name": "a", "copy": { "name": "x", "count": 801 } }] });
        assert!(plan(&bad_count, &mut context(json!({}))).unwrap_err().0.contains("from 0 to 800"));
    }
}
