"""Real credential code against azemu --auth strict, nothing changed but the endpoint: the
environment-variable path of DefaultAzureCredential (ADFS-style authority), ClientSecretCredential
on an Entra-style tenant, WorkloadIdentityCredential with a federated token file, and
ManagedIdentityCredential through the App Service endpoint and
through the instance metadata endpoint, each driving azure-mgmt clients over HTTPS. Python
clients trust azemu through REQUESTS_CA_BUNDLE."""

import time

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    ClientSecretCredential,
    DefaultAzureCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient

from conftest import SUBSCRIPTION, StaticCredential, _b64
from test_compute_sdk import scale_set

IDENTITY_VARIABLES = [
    "AZURE_AUTHORITY_HOST", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_USERNAME",
    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST", "AZURE_FEDERATED_TOKEN_FILE",
]


@pytest.fixture
def env(monkeypatch, strict_emulator):
    for name in IDENTITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", strict_emulator.ca_file)
    return monkeypatch


def resources(emu, credential):
    return ResourceManagementClient(credential, SUBSCRIPTION, base_url=emu.endpoint)


def test_default_credential_from_environment_variables(env, strict_emulator):
    env.setenv("AZURE_AUTHORITY_HOST", strict_emulator.endpoint)
    env.setenv("AZURE_TENANT_ID", "adfs")
    env.setenv("AZURE_CLIENT_ID", "ci-pipeline")
    env.setenv("AZURE_CLIENT_SECRET", "any-secret")
    credential = DefaultAzureCredential()
    group = resources(strict_emulator, credential).resource_groups.create_or_update("identity-rg", {"location": "westus"})
    assert group.name == "identity-rg"

    compute = ComputeManagementClient(credential, SUBSCRIPTION, base_url=strict_emulator.endpoint)
    created = compute.virtual_machine_scale_sets.begin_create_or_update(
        "identity-rg", "ci", scale_set(1), polling_interval=0.2
    ).result()
    assert created.provisioning_state == "Succeeded"
    [vm] = list(compute.virtual_machine_scale_set_vms.list("identity-rg", "ci"))
    assert vm.name == "ci_0"

    subscriptions = SubscriptionClient(credential, base_url=strict_emulator.endpoint)
    listed = {s.subscription_id: s for s in subscriptions.subscriptions.list()}
    assert listed[SUBSCRIPTION].display_name == "sdk tests"
    assert listed[SUBSCRIPTION].state == "Enabled"
    [tenant] = list(subscriptions.tenants.list())
    assert tenant.tenant_id == listed[SUBSCRIPTION].tenant_id


def test_client_secret_credential_on_an_entra_style_tenant(env, strict_emulator):
    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    credential = ClientSecretCredential(
        tenant, "ci-pipeline", "any-secret", authority=strict_emulator.endpoint, disable_instance_discovery=True
    )
    token = credential.get_token("https://management.azure.com/.default")
    assert token.token.count(".") == 2
    assert resources(strict_emulator, credential).resource_groups.check_existence("absent-rg") is False


def test_workload_identity_with_a_federated_token_file(env, strict_emulator, tmp_path):
    """What a CI system's OIDC login does: a token from another issuer, made for the token
    exchange audience, traded for an azemu token."""
    federated = {
        "iss": "https://oidc.ci.example",
        "sub": "repo:team/app:ref:refs/heads/main",
        "aud": "api://AzureADTokenExchange",
        "exp": int(time.time()) + 600,
    }
    token_file = tmp_path / "federated-token"
    token_file.write_text(f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(federated)}.c2ln")
    credential = WorkloadIdentityCredential(
        tenant_id="adfs", client_id="ci-workload", token_file_path=str(token_file), authority=strict_emulator.endpoint
    )
    client = resources(strict_emulator, credential)
    group = client.resource_groups.create_or_update("workload-rg", {"location": "westus"})
    assert group.name == "workload-rg"


def test_managed_identity_through_the_app_service_endpoint(env, strict_emulator):
    env.setenv("IDENTITY_ENDPOINT", f"{strict_emulator.endpoint}/msi/token")
    env.setenv("IDENTITY_HEADER", "azemu")
    client = resources(strict_emulator, ManagedIdentityCredential())
    client.resource_groups.create_or_update("msi-rg", {"location": "westus"})
    group = client.resource_groups.get("msi-rg")
    assert group.system_data.created_by_type == "ManagedIdentity"


def test_managed_identity_through_the_instance_metadata_endpoint(env, strict_emulator):
    env.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", strict_emulator.endpoint)
    client = resources(strict_emulator, ManagedIdentityCredential(client_id="build-agent"))
    client.resource_groups.create_or_update("imds-rg", {"location": "westus"})
    assert [g.name for g in client.resource_groups.list()] == ["imds-rg"]


def test_strict_auth_refuses_a_token_azemu_did_not_sign(env, strict_emulator):
    with pytest.raises(ClientAuthenticationError) as refused:
        resources(strict_emulator, StaticCredential()).resource_groups.get("any-rg")
    assert refused.value.status_code == 401
    assert "InvalidAuthenticationToken" in str(refused.value)
