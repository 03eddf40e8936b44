# The admin HTTP endpoint, spoken to over a real loopback socket.
sluice_test(admin_test unit SOURCES admin_test.cc LIBS sluice_gateway)
