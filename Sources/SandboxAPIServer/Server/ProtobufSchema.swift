/// Field numbers of the Kubernetes protobuf messages the sandbox accepts as request bodies
/// (`application/vnd.kubernetes.protobuf`, which kubectl 1.33's `create` subcommands send).
/// Data, one message per line: `Name|number jsonName type|…`, where type is `s` string, `b`
/// bytes, `B` bool, `i` integer, `d` double, `T` Time, `I` IntOrString, `Q` Quantity, `R` raw
/// JSON, `D` Duration, `mName` message, `M<type>` map<string, type>, and `*` marks repeated.
/// Derived from the field numbers in Kubernetes' published generated.proto files (core/v1,
/// apps/v1, rbac/v1, admissionregistration/v1, authentication/v1, authorization/v1, discovery/v1,
/// meta/v1), limited to what the served kinds reach.
enum ProtobufSchema {
    static let text = #"""
Namespace|1 metadata mObjectMeta|2 spec mNamespaceSpec|3 status mNamespaceStatus
Node|1 metadata mObjectMeta|2 spec mNodeSpec|3 status mNodeStatus
Pod|1 metadata mObjectMeta|2 spec mPodSpec|3 status mPodStatus
Service|1 metadata mObjectMeta|2 spec mServiceSpec|3 status mServiceStatus
Endpoints|1 metadata mObjectMeta|2 subsets *mEndpointSubset
ConfigMap|1 metadata mObjectMeta|4 immutable B|2 data Ms|3 binaryData Mb
Secret|1 metadata mObjectMeta|5 immutable B|2 data Mb|4 stringData Ms|3 type s
ServiceAccount|1 metadata mObjectMeta|2 secrets *mObjectReference|3 imagePullSecrets *mLocalObjectReference|4 automountServiceAccountToken B
Event|1 metadata mObjectMeta|2 involvedObject mObjectReference|3 reason s|4 message s|5 source mEventSource|6 firstTimestamp T|7 lastTimestamp T|8 count i|9 type s|10 eventTime T|11 series mEventSeries|12 action s|13 related mObjectReference|14 reportingComponent s|15 reportingInstance s
Deployment|1 metadata mObjectMeta|2 spec mDeploymentSpec|3 status mDeploymentStatus
ReplicaSet|1 metadata mObjectMeta|2 spec mReplicaSetSpec|3 status mReplicaSetStatus
StatefulSet|1 metadata mObjectMeta|2 spec mStatefulSetSpec|3 status mStatefulSetStatus
MutatingWebhookConfiguration|1 metadata mObjectMeta|2 Webhooks *mMutatingWebhook
Role|1 metadata mObjectMeta|2 rules *mPolicyRule
RoleBinding|1 metadata mObjectMeta|2 subjects *mSubject|3 roleRef mRoleRef
ClusterRole|1 metadata mObjectMeta|2 rules *mPolicyRule|3 aggregationRule mAggregationRule
ClusterRoleBinding|1 metadata mObjectMeta|2 subjects *mSubject|3 roleRef mRoleRef
TokenRequest|1 metadata mObjectMeta|2 spec mTokenRequestSpec
TokenRequestSpec|1 audiences *s|4 expirationSeconds i|3 boundObjectRef mBoundObjectReference
BoundObjectReference|1 kind s|2 apiVersion s|3 name s|4 uid s
TokenReview|1 metadata mObjectMeta|2 spec mTokenReviewSpec
TokenReviewSpec|1 token s|2 audiences *s
SelfSubjectReview|1 metadata mObjectMeta
SelfSubjectAccessReview|1 metadata mObjectMeta|2 spec mSelfSubjectAccessReviewSpec
SelfSubjectAccessReviewSpec|1 resourceAttributes mResourceAttributes|2 nonResourceAttributes mNonResourceAttributes
LocalSubjectAccessReview|1 metadata mObjectMeta|2 spec mSubjectAccessReviewSpec
SubjectAccessReview|1 metadata mObjectMeta|2 spec mSubjectAccessReviewSpec
SubjectAccessReviewSpec|1 resourceAttributes mResourceAttributes|2 nonResourceAttributes mNonResourceAttributes|3 user s|4 groups *s|6 uid s
ResourceAttributes|1 namespace s|2 verb s|3 group s|4 version s|5 resource s|6 subresource s|7 name s
NonResourceAttributes|1 path s|2 verb s
SelfSubjectRulesReview|1 metadata mObjectMeta|2 spec mSelfSubjectRulesReviewSpec
SelfSubjectRulesReviewSpec|1 namespace s
DeleteOptions|1 gracePeriodSeconds i|2 preconditions mPreconditions|3 orphanDependents B|4 propagationPolicy s|5 dryRun *s|6 ignoreStoreReadErrorWithClusterBreakingPotential B
ObjectMeta|1 name s|2 generateName s|3 namespace s|4 selfLink s|5 uid s|6 resourceVersion s|7 generation i|8 creationTimestamp T|9 deletionTimestamp T|10 deletionGracePeriodSeconds i|11 labels Ms|12 annotations Ms|13 ownerReferences *mOwnerReference|14 finalizers *s|17 managedFields *mManagedFieldsEntry
NamespaceSpec|1 finalizers *s
NamespaceStatus|1 phase s|2 conditions *mNamespaceCondition
NodeSpec|1 podCIDR s|7 podCIDRs *s|3 providerID s|4 unschedulable B|5 taints *mTaint|6 configSource mNodeConfigSource|2 externalID s|8 podPreemptionPolicy mNodePodPreemptionPolicy
NodeStatus|1 capacity MQ|2 allocatable MQ|3 phase s|4 conditions *mNodeCondition|5 addresses *mNodeAddress|6 daemonEndpoints mNodeDaemonEndpoints|7 nodeInfo mNodeSystemInfo|8 images *mContainerImage|9 volumesInUse *s|10 volumesAttached *mAttachedVolume|11 config mNodeConfigStatus|12 runtimeHandlers *mNodeRuntimeHandler|13 features mNodeFeatures|14 declaredFeatures *s
PodSpec|1 volumes *mVolume|20 initContainers *mContainer|2 containers *mContainer|34 ephemeralContainers *mEphemeralContainer|3 restartPolicy s|4 terminationGracePeriodSeconds i|5 activeDeadlineSeconds i|6 dnsPolicy s|7 nodeSelector Ms|8 serviceAccountName s|9 serviceAccount s|21 automountServiceAccountToken B|10 nodeName s|11 hostNetwork B|12 hostPID B|13 hostIPC B|27 shareProcessNamespace B|14 securityContext mPodSecurityContext|15 imagePullSecrets *mLocalObjectReference|16 hostname s|17 subdomain s|18 affinity mAffinity|19 schedulerName s|22 tolerations *mToleration|23 hostAliases *mHostAlias|24 priorityClassName s|25 priority i|26 dnsConfig mPodDNSConfig|28 readinessGates *mPodReadinessGate|29 runtimeClassName s|30 enableServiceLinks B|31 preemptionPolicy s|32 overhead MQ|33 topologySpreadConstraints *mTopologySpreadConstraint|35 setHostnameAsFQDN B|36 os mPodOS|37 hostUsers B|38 schedulingGates *mPodSchedulingGate|39 resourceClaims *mPodResourceClaim|40 resources mResourceRequirements|41 hostnameOverride s|43 schedulingGroup mPodSchedulingGroup|44 evictionResponders *mEvictionResponder
PodStatus|17 observedGeneration i|1 phase s|2 conditions *mPodCondition|3 message s|4 reason s|11 nominatedNodeName s|5 hostIP s|16 hostIPs *mHostIP|6 podIP s|12 podIPs *mPodIP|7 startTime T|10 initContainerStatuses *mContainerStatus|8 containerStatuses *mContainerStatus|9 qosClass s|13 ephemeralContainerStatuses *mContainerStatus|14 resize s|15 resourceClaimStatuses *mPodResourceClaimStatus|18 extendedResourceClaimStatus mPodExtendedResourceClaimStatus|19 allocatedResources MQ|20 resources mResourceRequirements|21 nodeAllocatableResourceClaimStatuses *mNodeAllocatableResourceClaimStatus|22 volumeHealth *mPodVolumeHealth
ServiceSpec|1 ports *mServicePort|2 selector Ms|3 clusterIP s|18 clusterIPs *s|4 type s|5 externalIPs *s|7 sessionAffinity s|8 loadBalancerIP s|9 loadBalancerSourceRanges *s|10 externalName s|11 externalTrafficPolicy s|12 healthCheckNodePort i|13 publishNotReadyAddresses B|14 sessionAffinityConfig mSessionAffinityConfig|19 ipFamilies *s|17 ipFamilyPolicy s|20 allocateLoadBalancerNodePorts B|21 loadBalancerClass s|22 internalTrafficPolicy s|23 trafficDistribution s
ServiceStatus|1 loadBalancer mLoadBalancerStatus|2 conditions *mCondition
EndpointSubset|1 addresses *mEndpointAddress|2 notReadyAddresses *mEndpointAddress|3 ports *mEndpointPort
ObjectReference|1 kind s|2 namespace s|3 name s|4 uid s|5 apiVersion s|6 resourceVersion s|7 fieldPath s
LocalObjectReference|1 name s
EventSource|1 component s|2 host s
EventSeries|1 count i|2 lastObservedTime T
DeploymentSpec|1 replicas i|2 selector mLabelSelector|3 template mPodTemplateSpec|4 strategy mDeploymentStrategy|5 minReadySeconds i|6 revisionHistoryLimit i|7 paused B|9 progressDeadlineSeconds i
DeploymentStatus|1 observedGeneration i|2 replicas i|3 updatedReplicas i|7 readyReplicas i|4 availableReplicas i|5 unavailableReplicas i|9 terminatingReplicas i|6 conditions *mDeploymentCondition|8 collisionCount i
ReplicaSetSpec|1 replicas i|4 minReadySeconds i|2 selector mLabelSelector|3 template mPodTemplateSpec
ReplicaSetStatus|1 replicas i|2 fullyLabeledReplicas i|4 readyReplicas i|5 availableReplicas i|7 terminatingReplicas i|3 observedGeneration i|6 conditions *mReplicaSetCondition
StatefulSetSpec|1 replicas i|2 selector mLabelSelector|3 template mPodTemplateSpec|4 volumeClaimTemplates *mPersistentVolumeClaim|5 serviceName s|6 podManagementPolicy s|7 updateStrategy mStatefulSetUpdateStrategy|8 revisionHistoryLimit i|9 minReadySeconds i|10 persistentVolumeClaimRetentionPolicy mStatefulSetPersistentVolumeClaimRetentionPolicy|11 ordinals mStatefulSetOrdinals
StatefulSetStatus|1 observedGeneration i|2 replicas i|3 readyReplicas i|4 currentReplicas i|5 updatedReplicas i|6 currentRevision s|7 updateRevision s|9 collisionCount i|10 conditions *mStatefulSetCondition|11 availableReplicas i
MutatingWebhook|1 name s|2 clientConfig mWebhookClientConfig|3 rules *mRuleWithOperations|4 failurePolicy s|9 matchPolicy s|5 namespaceSelector mLabelSelector|11 objectSelector mLabelSelector|6 sideEffects s|7 timeoutSeconds i|8 admissionReviewVersions *s|10 reinvocationPolicy s|12 matchConditions *mMatchCondition
PolicyRule|1 verbs *s|2 apiGroups *s|3 resources *s|4 resourceNames *s|5 nonResourceURLs *s
Subject|1 kind s|2 apiGroup s|3 name s|4 namespace s
RoleRef|1 apiGroup s|2 kind s|3 name s
AggregationRule|1 clusterRoleSelectors *mLabelSelector
Preconditions|1 uid s
OwnerReference|5 apiVersion s|1 kind s|3 name s|4 uid s|6 controller B|7 blockOwnerDeletion B
ManagedFieldsEntry|1 manager s|2 operation s|3 apiVersion s|4 time T|6 fieldsType s|7 fieldsV1 R|8 subresource s
NamespaceCondition|1 type s|2 status s|4 lastTransitionTime T|5 reason s|6 message s
Taint|1 key s|2 value s|3 effect s|4 timeAdded T
NodeConfigSource|2 configMap mConfigMapNodeConfigSource
NodePodPreemptionPolicy|1 disableResizePreemption *s
NodeCondition|1 type s|2 status s|3 lastHeartbeatTime T|4 lastTransitionTime T|5 reason s|6 message s
NodeAddress|1 type s|2 address s
NodeDaemonEndpoints|1 kubeletEndpoint mDaemonEndpoint
NodeSystemInfo|1 machineID s|2 systemUUID s|3 bootID s|4 kernelVersion s|5 osImage s|6 containerRuntimeVersion s|7 kubeletVersion s|8 kubeProxyVersion s|9 operatingSystem s|10 architecture s|11 swap mNodeSwapStatus
ContainerImage|1 names *s|2 sizeBytes i
AttachedVolume|1 name s|2 devicePath s
NodeConfigStatus|1 assigned mNodeConfigSource|2 active mNodeConfigSource|3 lastKnownGood mNodeConfigSource|4 error s
NodeRuntimeHandler|1 name s|2 features mNodeRuntimeHandlerFeatures
NodeFeatures|1 supplementalGroupsPolicy B
Volume|1 name s|2 volumeSource mVolumeSource
Container|1 name s|2 image s|3 command *s|4 args *s|5 workingDir s|6 ports *mContainerPort|19 envFrom *mEnvFromSource|7 env *mEnvVar|8 resources mResourceRequirements|23 resizePolicy *mContainerResizePolicy|24 restartPolicy s|25 restartPolicyRules *mContainerRestartRule|9 volumeMounts *mVolumeMount|21 volumeDevices *mVolumeDevice|10 livenessProbe mProbe|11 readinessProbe mProbe|22 startupProbe mProbe|12 lifecycle mLifecycle|13 terminationMessagePath s|20 terminationMessagePolicy s|14 imagePullPolicy s|15 securityContext mSecurityContext|16 stdin B|17 stdinOnce B|18 tty B
EphemeralContainer|1 ephemeralContainerCommon mEphemeralContainerCommon|2 targetContainerName s
PodSecurityContext|1 seLinuxOptions mSELinuxOptions|8 windowsOptions mWindowsSecurityContextOptions|2 runAsUser i|6 runAsGroup i|3 runAsNonRoot B|4 supplementalGroups *i|12 supplementalGroupsPolicy s|5 fsGroup i|7 sysctls *mSysctl|9 fsGroupChangePolicy s|10 seccompProfile mSeccompProfile|11 appArmorProfile mAppArmorProfile|13 seLinuxChangePolicy s
Affinity|1 nodeAffinity mNodeAffinity|2 podAffinity mPodAffinity|3 podAntiAffinity mPodAntiAffinity
Toleration|1 key s|2 operator s|3 value s|4 effect s|5 tolerationSeconds i
HostAlias|1 ip s|2 hostnames *s
PodDNSConfig|1 nameservers *s|2 searches *s|3 options *mPodDNSConfigOption
PodReadinessGate|1 conditionType s
TopologySpreadConstraint|1 maxSkew i|2 topologyKey s|3 whenUnsatisfiable s|4 labelSelector mLabelSelector|5 minDomains i|6 nodeAffinityPolicy s|7 nodeTaintsPolicy s|8 matchLabelKeys *s
PodOS|1 name s
PodSchedulingGate|1 name s
PodResourceClaim|1 name s|3 resourceClaimName s|4 resourceClaimTemplateName s
ResourceRequirements|1 limits MQ|2 requests MQ|3 claims *mResourceClaim
PodSchedulingGroup|1 podGroupName s
EvictionResponder|1 name s|2 priority i
PodCondition|1 type s|7 observedGeneration i|2 status s|3 lastProbeTime T|4 lastTransitionTime T|5 reason s|6 message s
HostIP|1 ip s
PodIP|1 ip s
ContainerStatus|1 name s|2 state mContainerState|3 lastState mContainerState|4 ready B|5 restartCount i|6 image s|7 imageID s|8 containerID s|9 started B|10 allocatedResources MQ|11 resources mResourceRequirements|12 volumeMounts *mVolumeMountStatus|13 user mContainerUser|14 allocatedResourcesStatus *mResourceStatus|15 stopSignal s
PodResourceClaimStatus|1 name s|2 resourceClaimName s
PodExtendedResourceClaimStatus|1 requestMappings *mContainerExtendedResourceRequest|2 resourceClaimName s
NodeAllocatableResourceClaimStatus|1 resourceClaimName s|2 containers *s|4 mapping *mNodeAllocatableMappedResources|5 overhead *mNodeAllocatableOverheadResources
PodVolumeHealth|1 name s|2 healthConditions *mVolumeHealthCondition|3 lastTransitionTime T
ServicePort|1 name s|2 protocol s|6 appProtocol s|3 port i|4 targetPort I|5 nodePort i
SessionAffinityConfig|1 clientIP mClientIPConfig
LoadBalancerStatus|1 ingress *mLoadBalancerIngress
Condition|1 type s|2 status s|3 observedGeneration i|4 lastTransitionTime T|5 reason s|6 message s
EndpointAddress|1 ip s|3 hostname s|4 nodeName s|2 targetRef mObjectReference
EndpointPort|1 name s|2 port i|3 protocol s|4 appProtocol s
EndpointSlice|1 metadata mObjectMeta|4 addressType s|2 endpoints *mSliceEndpoint|3 ports *mSliceEndpointPort
SliceEndpoint|1 addresses *s|2 conditions mEndpointConditions|3 hostname s|4 targetRef mObjectReference|5 deprecatedTopology Ms|6 nodeName s|7 zone s|8 hints mEndpointHints
EndpointConditions|1 ready B|2 serving B|3 terminating B
SliceEndpointPort|1 name s|2 protocol s|3 port i|4 appProtocol s
EndpointHints|1 forZones *mForZone|2 forNodes *mForNode
ForZone|1 name s
ForNode|1 name s
LabelSelector|1 matchLabels Ms|2 matchExpressions *mLabelSelectorRequirement
PodTemplateSpec|1 metadata mObjectMeta|2 spec mPodSpec
DeploymentStrategy|1 type s|2 rollingUpdate mRollingUpdateDeployment
DeploymentCondition|1 type s|2 status s|6 lastUpdateTime T|7 lastTransitionTime T|4 reason s|5 message s
ReplicaSetCondition|1 type s|2 status s|3 lastTransitionTime T|4 reason s|5 message s
PersistentVolumeClaim|1 metadata mObjectMeta|2 spec mPersistentVolumeClaimSpec|3 status mPersistentVolumeClaimStatus
StatefulSetUpdateStrategy|1 type s|2 rollingUpdate mRollingUpdateStatefulSetStrategy
StatefulSetPersistentVolumeClaimRetentionPolicy|1 whenDeleted s|2 whenScaled s
StatefulSetOrdinals|1 start i
StatefulSetCondition|1 type s|2 status s|3 lastTransitionTime T|4 reason s|5 message s
WebhookClientConfig|3 url s|1 service mServiceReference|2 caBundle b
RuleWithOperations|1 operations *s|2 rule mRule
MatchCondition|1 name s|2 expression s
ConfigMapNodeConfigSource|1 namespace s|2 name s|3 uid s|4 resourceVersion s|5 kubeletConfigKey s
DaemonEndpoint|1 Port i
NodeSwapStatus|1 capacity i
NodeRuntimeHandlerFeatures|1 recursiveReadOnlyMounts B|2 userNamespaces B
VolumeSource|1 hostPath mHostPathVolumeSource|2 emptyDir mEmptyDirVolumeSource|3 gcePersistentDisk mGCEPersistentDiskVolumeSource|4 awsElasticBlockStore mAWSElasticBlockStoreVolumeSource|5 gitRepo mGitRepoVolumeSource|6 secret mSecretVolumeSource|7 nfs mNFSVolumeSource|8 iscsi mISCSIVolumeSource|9 glusterfs mGlusterfsVolumeSource|10 persistentVolumeClaim mPersistentVolumeClaimVolumeSource|11 rbd mRBDVolumeSource|12 flexVolume mFlexVolumeSource|13 cinder mCinderVolumeSource|14 cephfs mCephFSVolumeSource|15 flocker mFlockerVolumeSource|16 downwardAPI mDownwardAPIVolumeSource|17 fc mFCVolumeSource|18 azureFile mAzureFileVolumeSource|19 configMap mConfigMapVolumeSource|20 vsphereVolume mVsphereVirtualDiskVolumeSource|21 quobyte mQuobyteVolumeSource|22 azureDisk mAzureDiskVolumeSource|23 photonPersistentDisk mPhotonPersistentDiskVolumeSource|26 projected mProjectedVolumeSource|24 portworxVolume mPortworxVolumeSource|25 scaleIO mScaleIOVolumeSource|27 storageos mStorageOSVolumeSource|28 csi mCSIVolumeSource|29 ephemeral mEphemeralVolumeSource|30 image mImageVolumeSource
ContainerPort|1 name s|2 hostPort i|3 containerPort i|4 protocol s|5 hostIP s
EnvFromSource|1 prefix s|2 configMapRef mConfigMapEnvSource|3 secretRef mSecretEnvSource
EnvVar|1 name s|2 value s|3 valueFrom mEnvVarSource
ContainerResizePolicy|1 resourceName s|2 restartPolicy s
ContainerRestartRule|1 action s|2 exitCodes mContainerRestartRuleOnExitCodes
VolumeMount|1 name s|2 readOnly B|7 recursiveReadOnly s|3 mountPath s|4 subPath s|5 mountPropagation s|6 subPathExpr s|8 bindMountOptions *s
VolumeDevice|1 name s|2 devicePath s
Probe|1 handler mProbeHandler|2 initialDelaySeconds i|3 timeoutSeconds i|4 periodSeconds i|5 successThreshold i|6 failureThreshold i|7 terminationGracePeriodSeconds i
Lifecycle|1 postStart mLifecycleHandler|2 preStop mLifecycleHandler|3 stopSignal s
SecurityContext|1 capabilities mCapabilities|2 privileged B|3 seLinuxOptions mSELinuxOptions|10 windowsOptions mWindowsSecurityContextOptions|4 runAsUser i|8 runAsGroup i|5 runAsNonRoot B|6 readOnlyRootFilesystem B|7 allowPrivilegeEscalation B|9 procMount s|11 seccompProfile mSeccompProfile|12 appArmorProfile mAppArmorProfile
EphemeralContainerCommon|1 name s|2 image s|3 command *s|4 args *s|5 workingDir s|6 ports *mContainerPort|19 envFrom *mEnvFromSource|7 env *mEnvVar|8 resources mResourceRequirements|23 resizePolicy *mContainerResizePolicy|24 restartPolicy s|25 restartPolicyRules *mContainerRestartRule|9 volumeMounts *mVolumeMount|21 volumeDevices *mVolumeDevice|10 livenessProbe mProbe|11 readinessProbe mProbe|22 startupProbe mProbe|12 lifecycle mLifecycle|13 terminationMessagePath s|20 terminationMessagePolicy s|14 imagePullPolicy s|15 securityContext mSecurityContext|16 stdin B|17 stdinOnce B|18 tty B
SELinuxOptions|1 user s|2 role s|3 type s|4 level s
WindowsSecurityContextOptions|1 gmsaCredentialSpecName s|2 gmsaCredentialSpec s|3 runAsUserName s|4 hostProcess B
Sysctl|1 name s|2 value s
SeccompProfile|1 type s|2 localhostProfile s
AppArmorProfile|1 type s|2 localhostProfile s
NodeAffinity|1 requiredDuringSchedulingIgnoredDuringExecution mNodeSelector|2 preferredDuringSchedulingIgnoredDuringExecution *mPreferredSchedulingTerm
PodAffinity|1 requiredDuringSchedulingIgnoredDuringExecution *mPodAffinityTerm|2 preferredDuringSchedulingIgnoredDuringExecution *mWeightedPodAffinityTerm
PodAntiAffinity|1 requiredDuringSchedulingIgnoredDuringExecution *mPodAffinityTerm|2 preferredDuringSchedulingIgnoredDuringExecution *mWeightedPodAffinityTerm
PodDNSConfigOption|1 name s|2 value s
ResourceClaim|1 name s|2 request s
ContainerState|1 waiting mContainerStateWaiting|2 running mContainerStateRunning|3 terminated mContainerStateTerminated
VolumeMountStatus|1 name s|2 mountPath s|3 readOnly B|4 recursiveReadOnly s|5 volumeStatus mVolumeStatus
ContainerUser|1 linux mLinuxContainerUser
ResourceStatus|1 name s|2 resources *mResourceHealth
ContainerExtendedResourceRequest|1 containerName s|2 resourceName s|3 requestName s
NodeAllocatableMappedResources|1 name s|2 quantity Q
NodeAllocatableOverheadResources|1 name s|2 perPod Q|3 perContainer Q
VolumeHealthCondition|1 status s|2 reason s|3 message s
ClientIPConfig|1 timeoutSeconds i
LoadBalancerIngress|1 ip s|2 hostname s|3 ipMode s|4 ports *mPortStatus
LabelSelectorRequirement|1 key s|2 operator s|3 values *s
RollingUpdateDeployment|1 maxUnavailable I|2 maxSurge I
PersistentVolumeClaimSpec|1 accessModes *s|4 selector mLabelSelector|2 resources mVolumeResourceRequirements|3 volumeName s|5 storageClassName s|6 volumeMode s|7 dataSource mTypedLocalObjectReference|8 dataSourceRef mTypedObjectReference|9 volumeAttributesClassName s
PersistentVolumeClaimStatus|1 phase s|2 accessModes *s|3 capacity MQ|4 conditions *mPersistentVolumeClaimCondition|5 allocatedResources MQ|7 allocatedResourceStatuses Ms|8 currentVolumeAttributesClassName s|9 modifyVolumeStatus mModifyVolumeStatus|10 healthStatus mVolumeHealthStatus
RollingUpdateStatefulSetStrategy|1 partition i|2 maxUnavailable I
ServiceReference|1 namespace s|2 name s|3 path s|4 port i
Rule|1 apiGroups *s|2 apiVersions *s|3 resources *s|4 scope s
HostPathVolumeSource|1 path s|2 type s
EmptyDirVolumeSource|1 medium s|2 sizeLimit Q|3 mode i
GCEPersistentDiskVolumeSource|1 pdName s|2 fsType s|3 partition i|4 readOnly B
AWSElasticBlockStoreVolumeSource|1 volumeID s|2 fsType s|3 partition i|4 readOnly B
GitRepoVolumeSource|1 repository s|2 revision s|3 directory s
SecretVolumeSource|1 secretName s|2 items *mKeyToPath|3 defaultMode i|4 optional B|5 defaultUser i
NFSVolumeSource|1 server s|2 path s|3 readOnly B
ISCSIVolumeSource|1 targetPortal s|2 iqn s|3 lun i|4 iscsiInterface s|5 fsType s|6 readOnly B|7 portals *s|8 chapAuthDiscovery B|11 chapAuthSession B|10 secretRef mLocalObjectReference|12 initiatorName s
GlusterfsVolumeSource|1 endpoints s|2 path s|3 readOnly B
PersistentVolumeClaimVolumeSource|1 claimName s|2 readOnly B
RBDVolumeSource|1 monitors *s|2 image s|3 fsType s|4 pool s|5 user s|6 keyring s|7 secretRef mLocalObjectReference|8 readOnly B
FlexVolumeSource|1 driver s|2 fsType s|3 secretRef mLocalObjectReference|4 readOnly B|5 options Ms
CinderVolumeSource|1 volumeID s|2 fsType s|3 readOnly B|4 secretRef mLocalObjectReference
CephFSVolumeSource|1 monitors *s|2 path s|3 user s|4 secretFile s|5 secretRef mLocalObjectReference|6 readOnly B
FlockerVolumeSource|1 datasetName s|2 datasetUUID s
DownwardAPIVolumeSource|1 items *mDownwardAPIVolumeFile|2 defaultMode i|3 defaultUser i
FCVolumeSource|1 targetWWNs *s|2 lun i|3 fsType s|4 readOnly B|5 wwids *s
AzureFileVolumeSource|1 secretName s|2 shareName s|3 readOnly B
ConfigMapVolumeSource|1 localObjectReference mLocalObjectReference|2 items *mKeyToPath|3 defaultMode i|4 optional B|5 defaultUser i
VsphereVirtualDiskVolumeSource|1 volumePath s|2 fsType s|3 storagePolicyName s|4 storagePolicyID s
QuobyteVolumeSource|1 registry s|2 volume s|3 readOnly B|4 user s|5 group s|6 tenant s
AzureDiskVolumeSource|1 diskName s|2 diskURI s|3 cachingMode s|4 fsType s|5 readOnly B|6 kind s
PhotonPersistentDiskVolumeSource|1 pdID s|2 fsType s
ProjectedVolumeSource|1 sources *mVolumeProjection|2 defaultMode i|3 defaultUser i
PortworxVolumeSource|1 volumeID s|2 fsType s|3 readOnly B
ScaleIOVolumeSource|1 gateway s|2 system s|3 secretRef mLocalObjectReference|4 sslEnabled B|5 protectionDomain s|6 storagePool s|7 storageMode s|8 volumeName s|9 fsType s|10 readOnly B
StorageOSVolumeSource|1 volumeName s|2 volumeNamespace s|3 fsType s|4 readOnly B|5 secretRef mLocalObjectReference
CSIVolumeSource|1 driver s|2 readOnly B|3 fsType s|4 volumeAttributes Ms|5 nodePublishSecretRef mLocalObjectReference
EphemeralVolumeSource|1 volumeClaimTemplate mPersistentVolumeClaimTemplate
ImageVolumeSource|1 reference s|2 pullPolicy s
ConfigMapEnvSource|1 localObjectReference mLocalObjectReference|2 optional B
SecretEnvSource|1 localObjectReference mLocalObjectReference|2 optional B
EnvVarSource|1 fieldRef mObjectFieldSelector|2 resourceFieldRef mResourceFieldSelector|3 configMapKeyRef mConfigMapKeySelector|4 secretKeyRef mSecretKeySelector|5 fileKeyRef mFileKeySelector
ContainerRestartRuleOnExitCodes|1 operator s|2 values *i
ProbeHandler|1 exec mExecAction|2 httpGet mHTTPGetAction|3 tcpSocket mTCPSocketAction|4 grpc mGRPCAction
LifecycleHandler|1 exec mExecAction|2 httpGet mHTTPGetAction|3 tcpSocket mTCPSocketAction|4 sleep mSleepAction
Capabilities|1 add *s|2 drop *s
NodeSelector|1 nodeSelectorTerms *mNodeSelectorTerm
PreferredSchedulingTerm|1 weight i|2 preference mNodeSelectorTerm
PodAffinityTerm|1 labelSelector mLabelSelector|2 namespaces *s|3 topologyKey s|4 namespaceSelector mLabelSelector|5 matchLabelKeys *s|6 mismatchLabelKeys *s
WeightedPodAffinityTerm|1 weight i|2 podAffinityTerm mPodAffinityTerm
ContainerStateWaiting|1 reason s|2 message s
ContainerStateRunning|1 startedAt T
ContainerStateTerminated|1 exitCode i|2 signal i|3 reason s|4 message s|5 startedAt T|6 finishedAt T|7 containerID s
VolumeStatus|1 image mImageVolumeStatus
LinuxContainerUser|1 uid i|2 gid i|3 supplementalGroups *i
ResourceHealth|1 resourceID s|2 health s|6 message s
PortStatus|1 port i|2 protocol s|3 error s
VolumeResourceRequirements|1 limits MQ|2 requests MQ
TypedLocalObjectReference|1 apiGroup s|2 kind s|3 name s
TypedObjectReference|1 apiGroup s|2 kind s|3 name s|4 namespace s
PersistentVolumeClaimCondition|1 type s|2 status s|3 lastProbeTime T|4 lastTransitionTime T|5 reason s|6 message s
ModifyVolumeStatus|1 targetVolumeAttributesClassName s|2 status s
VolumeHealthStatus|1 healthConditions *mVolumeHealthCondition|2 lastTransitionTime T
KeyToPath|1 key s|2 path s|3 mode i|4 user i
DownwardAPIVolumeFile|1 path s|2 fieldRef mObjectFieldSelector|3 resourceFieldRef mResourceFieldSelector|4 mode i|5 user i
VolumeProjection|1 secret mSecretProjection|2 downwardAPI mDownwardAPIProjection|3 configMap mConfigMapProjection|4 serviceAccountToken mServiceAccountTokenProjection|5 clusterTrustBundle mClusterTrustBundleProjection|6 podCertificate mPodCertificateProjection
PersistentVolumeClaimTemplate|1 metadata mObjectMeta|2 spec mPersistentVolumeClaimSpec
ObjectFieldSelector|1 apiVersion s|2 fieldPath s
ResourceFieldSelector|1 containerName s|2 resource s|3 divisor Q
ConfigMapKeySelector|1 localObjectReference mLocalObjectReference|2 key s|3 optional B
SecretKeySelector|1 localObjectReference mLocalObjectReference|2 key s|3 optional B
FileKeySelector|1 volumeName s|2 path s|3 key s|4 optional B
ExecAction|1 command *s
HTTPGetAction|1 path s|2 port I|3 host s|4 scheme s|5 httpHeaders *mHTTPHeader|6 protocol s
TCPSocketAction|1 port I|2 host s
GRPCAction|1 port i|2 service s|3 mode s
SleepAction|1 seconds i
NodeSelectorTerm|1 matchExpressions *mNodeSelectorRequirement|2 matchFields *mNodeSelectorRequirement
ImageVolumeStatus|1 imageRef s
SecretProjection|1 localObjectReference mLocalObjectReference|2 items *mKeyToPath|4 optional B
DownwardAPIProjection|1 items *mDownwardAPIVolumeFile
ConfigMapProjection|1 localObjectReference mLocalObjectReference|2 items *mKeyToPath|4 optional B
ServiceAccountTokenProjection|1 audience s|2 expirationSeconds i|3 path s|4 user i
ClusterTrustBundleProjection|1 name s|2 signerName s|3 labelSelector mLabelSelector|5 optional B|4 path s|6 user i
PodCertificateProjection|1 signerName s|2 keyType s|3 maxExpirationSeconds i|4 credentialBundlePath s|5 keyPath s|6 certificateChainPath s|7 userAnnotations Ms|8 user i
HTTPHeader|1 name s|2 value s
NodeSelectorRequirement|1 key s|2 operator s|3 values *s
"""#
}
