// Replaced by the storage fixture setup (Postgres template database).
export default async function setup() {}
