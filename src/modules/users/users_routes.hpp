#pragma once
// GET/POST /api/v1/users, GET/PATCH/DELETE /api/v1/users/{id}. Permission middleware comes from the app (the
// auth module's guard); each list is applied in order, outermost first.
#include <vector>

#include "lib/web/router.hpp"

namespace poste::users {

class UsersService;

struct UsersRouteGuards {
  std::vector<web::Middleware> user;           // authenticates; 401 without an active user
  std::vector<web::Middleware> admin;          // after user: 403 unless an admin
  std::vector<web::Middleware> self_or_admin;  // after user: 403 unless an admin or the user of {id}
};

void RegisterRoutes(web::Router& router, UsersService& service, UsersRouteGuards guards);

}  // namespace poste::users
