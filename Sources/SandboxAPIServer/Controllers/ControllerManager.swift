import KubeClient

/// Runs the sandbox's controllers on one task: each change in the store wakes the controllers
/// that care, which reconcile level-triggered (they read the store, never trust the event).
struct ControllerManager: Sendable {
    let api: KubernetesAPI
    /// Runs the pods when set; the virtual node does otherwise.
    var node: (any PodNode)? = nil

    func run() async {
        guard let subscription = try? api.store.subscribe(nil, namespace: nil, after: nil) else { return }
        defer { subscription.cancel() }
        if let node {
            node.register()
            // Pods that exist already (none at start-up) are picked up like new ones.
            for (_, pod) in api.store.list(ResourceCatalog.pods, namespace: nil).items {
                node.handle(StoreEvent(kind: .added, resource: ResourceCatalog.pods, object: pod, previous: nil))
            }
        } else {
            VirtualNode(api: api).register()
        }
        // Catch up with what exists (the bootstrap objects, or a restart).
        await reconcileAll()
        for await event in subscription.events {
            if Task.isCancelled { break }
            await handle(event)
        }
    }

    func reconcileAll() async {
        let store = api.store
        for (_, d) in store.list(ResourceCatalog.deployments, namespace: nil).items { deployments.reconcile(namespace: d.namespace, name: d.name) }
        for (_, rs) in store.list(ResourceCatalog.replicaSets, namespace: nil).items { await replicaSets.reconcile(namespace: rs.namespace, name: rs.name) }
        for (_, s) in store.list(ResourceCatalog.services, namespace: nil).items {
            endpoints.reconcile(namespace: s.namespace, name: s.name)
            endpointSlices.reconcile(namespace: s.namespace, name: s.name)
        }
    }

    var deployments: DeploymentController { DeploymentController(api: api) }
    var replicaSets: ReplicaSetController { ReplicaSetController(api: api) }
    var statefulSets: StatefulSetController { StatefulSetController(api: api) }
    var endpoints: EndpointsController { EndpointsController(api: api) }
    var endpointSlices: EndpointSliceController { EndpointSliceController(api: api) }

    func handle(_ event: StoreEvent) async {
        let object = event.object
        switch event.resource.kind {
        case "Deployment":
            deployments.reconcile(namespace: object.namespace, name: object.name)
        case "ReplicaSet":
            await replicaSets.reconcile(namespace: object.namespace, name: object.name)
            for owner in owners(object, kind: "Deployment") { deployments.reconcile(namespace: object.namespace, name: owner) }
        case "StatefulSet":
            await statefulSets.reconcile(namespace: object.namespace, name: object.name)
        case "Pod":
            if let node {
                node.handle(event)
            } else if event.kind != .deleted {
                VirtualNode(api: api).schedule(object)
            }
            for owner in owners(object, kind: "ReplicaSet") { await replicaSets.reconcile(namespace: object.namespace, name: owner) }
            for owner in owners(object, kind: "StatefulSet") { await statefulSets.reconcile(namespace: object.namespace, name: owner) }
            endpoints.reconcilePod(object, previous: event.previous)
            endpointSlices.reconcilePod(object, previous: event.previous)
        case "Service":
            endpoints.reconcile(namespace: object.namespace, name: object.name)
            endpointSlices.reconcile(namespace: object.namespace, name: object.name)
        case "Endpoints":
            // Hand-written Endpoints of a service without a selector are mirrored into slices.
            endpointSlices.reconcile(namespace: object.namespace, name: object.name)
        case "EndpointSlice" where event.kind == .deleted:
            // A slice deleted by hand comes back, as the real controller restores it.
            if let service = object.labels[EndpointSliceController.serviceNameLabel],
               [EndpointSliceController.managedBy, EndpointSliceController.mirroringManagedBy].contains(object.labels[EndpointSliceController.managedByLabel] ?? "") {
                endpointSlices.reconcile(namespace: object.namespace, name: service)
            }
        default: break
        }
    }

    func owners(_ object: StoredObject, kind: String) -> [String] {
        (object.value["metadata"]?["ownerReferences"]?.arrayValue ?? []).compactMap {
            $0["kind"]?.stringValue == kind ? $0["name"]?.stringValue : nil
        }
    }
}
