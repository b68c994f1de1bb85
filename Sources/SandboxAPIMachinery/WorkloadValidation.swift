import KubeClient

/// `ValidateDeploymentSpec`, `ValidateReplicaSetSpec`, `ValidateStatefulSetSpec` and
/// `ValidateScale`: non-negative replicas, a selector that is given, not empty and matches the
/// template's labels, a template whose pods restart `Always`, the rollout strategy; on update,
/// the selector is immutable (apps/v1).
public enum WorkloadValidation {
    typealias V = ObjectValidation

    static func spec(_ spec: JSONValue?, kind: String, old: JSONValue?, rules: ObjectValidation.Rules) -> [FieldError] {
        var errors = V.nonNegative(spec?["replicas"], "spec.replicas")
        let selector = spec?["selector"]
        let noun = kind == "StatefulSet" ? "statefulset" : "deployment"
        if kind == "StatefulSet" {
            errors += statefulSetPolicies(spec)
        }
        if let selector {
            errors += V.labelSelector(selector, field: "spec.selector")
            let labels = selector["matchLabels"]?.objectValue ?? [:]
            let expressions = selector["matchExpressions"]?.arrayValue ?? []
            if labels.isEmpty && expressions.isEmpty {
                errors.append(.invalid("spec.selector", printed: GoSyntax.labelSelector(selector), "empty selector is invalid for \(noun)"))
            }
        } else {
            errors.append(.required("spec.selector"))
        }
        errors += template(spec?["template"], selector: selector, rules: rules)
        if kind == "Deployment" {
            errors += strategy(spec?["strategy"])
        }
        errors += V.nonNegative(spec?["minReadySeconds"], "spec.minReadySeconds")
        errors += V.nonNegative(spec?["revisionHistoryLimit"], "spec.revisionHistoryLimit")
        if kind == "Deployment", let deadline = V.int(spec?["progressDeadlineSeconds"]) {
            errors += V.nonNegative(spec?["progressDeadlineSeconds"], "spec.progressDeadlineSeconds")
            if deadline <= V.int(spec?["minReadySeconds"]) ?? 0 {
                errors.append(.invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"))
            }
        }
        if let oldSelector = old?["selector"], let selector, oldSelector != selector {
            errors.append(.invalid("spec.selector", printed: GoSyntax.labelSelector(selector), "field is immutable"))
        }
        return errors
    }

    /// `ValidatePodTemplateSpecForReplicaSet`: the selector matches the template's labels, the
    /// template is a valid pod template whose pods restart `Always`.
    static func template(_ template: JSONValue?, selector: JSONValue?, rules: ObjectValidation.Rules) -> [FieldError] {
        var errors: [FieldError] = []
        let labels = V.stringMap(template?["metadata"]?["labels"])
        if let selector, let parsed = try? LabelSelector(json: selector), !parsed.isEverything, !parsed.matches(labels ?? [:]) {
            errors.append(.invalid("spec.template.metadata.labels", printed: GoSyntax.stringMap(labels),
                                   "`selector` does not match template `labels`"))
        }
        errors += PodSpecValidation.template(template, field: "spec.template", rules: rules)
        let restart = V.string(template?["spec"]?["restartPolicy"])
        if restart != "Always" {
            errors.append(.notSupported("spec.template.spec.restartPolicy", restart, ["Always"]))
        }
        if let deadline = V.int(template?["spec"]?["activeDeadlineSeconds"]) {
            errors.append(.invalid("spec.template.spec.activeDeadlineSeconds", deadline, "activeDeadlineSeconds in ReplicaSet is not Supported"))
        }
        return errors
    }

    /// `ValidateDeploymentStrategy` and `ValidateRollingUpdateDeployment`.
    static func strategy(_ strategy: JSONValue?) -> [FieldError] {
        let type = V.string(strategy?["type"])
        let rolling = strategy?["rollingUpdate"]
        switch type {
        case "Recreate":
            return rolling == nil ? [] : [.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")]
        case "RollingUpdate":
            guard let rolling else { return [.required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil")] }
            var errors: [FieldError] = []
            for key in ["maxUnavailable", "maxSurge"] {
                errors += intOrPercent(rolling[key], field: "spec.strategy.rollingUpdate.\(key)")
            }
            if percentOrValue(rolling["maxUnavailable"]) == 0 && percentOrValue(rolling["maxSurge"]) == 0 {
                errors.append(.invalid("spec.strategy.rollingUpdate.maxUnavailable", printed: GoSyntax.intOrString(rolling["maxUnavailable"]),
                                       "may not be 0 when `maxSurge` is 0"))
            }
            return errors
        default:
            return [FieldError(field: "spec.strategy", kind: .notSupported,
                               rawValue: "apps.DeploymentStrategy{Type:\(GoQuote.quote(type)), RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}",
                               detail: "supported values: \"Recreate\", \"RollingUpdate\"")]
        }
    }

    /// `ValidatePositiveIntOrPercent` and `IsNotMoreThan100Percent`.
    static func intOrPercent(_ value: JSONValue?, field: String) -> [FieldError] {
        guard let value else { return [] }
        if let text = value.stringValue {
            let digits = text.dropLast()
            guard text.hasSuffix("%"), !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else {
                return [.invalid(field, printed: GoSyntax.intOrString(value), NameValidation.regexError(
                    "a valid percent string must be a numeric string followed by an ending '%'", "[0-9]+%", examples: ["1%", "93%"]))]
            }
            if let n = Int(digits), n > 100 {
                return [.invalid(field, printed: GoSyntax.intOrString(value), "must not be greater than 100%")]
            }
            return []
        }
        return V.nonNegative(value, field)
    }

    static func percentOrValue(_ value: JSONValue?) -> Int {
        if let text = value?.stringValue { return Int(text.dropLast()) ?? -1 }
        return V.int(value) ?? 0
    }

    /// `podManagementPolicy` and `updateStrategy` of a StatefulSet.
    static func statefulSetPolicies(_ spec: JSONValue?) -> [FieldError] {
        var errors: [FieldError] = []
        let policy = V.string(spec?["podManagementPolicy"])
        if policy.isEmpty {
            errors.append(.required("spec.podManagementPolicy"))
        } else if !["OrderedReady", "Parallel"].contains(policy) {
            errors.append(.invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"))
        }
        let update = V.string(spec?["updateStrategy"]?["type"])
        if update.isEmpty {
            errors.append(.required("spec.updateStrategy"))
        } else if !["RollingUpdate", "OnDelete"].contains(update) {
            errors.append(.invalid("spec.updateStrategy", printed: "apps.StatefulSetUpdateStrategy{Type:\(GoQuote.quote(update)), RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}",
                                   "must be 'RollingUpdate' or 'OnDelete'"))
        }
        return errors
    }

    /// The autoscaling/v1 Scale of the `scale` subresource (`ValidateScale`).
    public static func scale(_ scale: JSONValue) -> [FieldError] {
        V.nonNegative(scale["spec"]?["replicas"], "spec.replicas")
    }

    /// The status of a workload (`ValidateDeploymentStatus` and friends): counts are not negative.
    public static func status(_ status: JSONValue?) -> [FieldError] {
        var errors: [FieldError] = []
        for key in ["observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas", "currentReplicas", "fullyLabeledReplicas", "terminatingReplicas"] {
            errors += V.nonNegative(status?[key], "status.\(key)")
        }
        return errors
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
