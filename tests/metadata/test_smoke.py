def test_applying_a_new_entity_creates_its_table_and_bumps_the_version(registry, engine):
    import sqlalchemy as sa

    doc = {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}
    before = registry.version()
    version = registry.apply(registry.plan([doc]))
    assert version == before + 1
    assert "crm_account" in sa.inspect(engine).get_table_names()
