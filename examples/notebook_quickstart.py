"""patrolsim from a notebook: paste the cells below one by one (each starts with ``# %%``), or run
the whole file from the project folder with ``python examples/notebook_quickstart.py``.

Everything runs in memory: nothing is written to disk unless you call ``res.to_dir(...)``.
Few replications and two simulated days keep each cell to a few seconds; the intervals are wide.
"""

# %% 1. A study: the default scenario on the synthetic demo road network
from sim import Study

study = Study("scenarios/jember_pilkada_2024.yaml", network="demo")  # a path from the project folder
print(study)
print("plans:", ", ".join(study.plans))

# %% 2. Two plans, 5 replications of 48 hours each
res = study.run(plans=["all-at-hq", "mixed"], reps=5, hours=48)
print(res.table())

# %% 3. The summary as a pandas DataFrame (the columns of summary.csv; in a notebook `res.summary` shows it)
columns = ["plan", "reps", "incidents", "response_mean_min", "response_mean_ci95", "within_target_pct"]
print(res.summary[columns].round(2).to_string(index=False))

# %% 4. A plan built in code: 'mixed', with one of its two reserve cars posted at the alun-alun instead
mine = study.plan_data("mixed")           # a copy, as a dict like the YAML
mine["name"] = "mixed-alun-alun"
mine["units"][-1]["count"] = 1            # the reserve at Polres: 2 cars -> 1
mine["units"].append({"type": "polri_car", "count": 1, "base": "polres",
                      "patrol": {"mode": "post", "at": "alun_alun"}})
res_mine = study.with_plan(mine).run(plans=["mixed", "mixed-alun-alun"], reps=5, hours=48)
print(res_mine.comparison[["plan", "reference", "response_diff_min", "response_diff_ci95", "verdict"]]
      .round(2).to_string(index=False))

# %% 5. An override, validated like --set: provocation twice as frequent
busier = study.with_overrides({"disturbances.provocation.rate_per_hour": 0.5})
res_busier = busier.run(plans=["all-at-hq", "mixed"], reps=5, hours=48)
print("incidents per plan:", res.summary.loc[0, "incidents"], "->", res_busier.summary.loc[0, "incidents"],
      "with provocation at 0.5 per hour")

# %% 6. One road network and one set of travel tables served every run above
print(study.cache)
