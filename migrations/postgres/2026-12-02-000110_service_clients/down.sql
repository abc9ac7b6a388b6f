DROP TABLE client_assertions;
DROP TABLE service_clients;
