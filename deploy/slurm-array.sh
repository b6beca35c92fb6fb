#!/bin/bash
# A webgpu-rl sweep as a Slurm job array: task K runs shard K of N (webgpu-rl reads SLURM_ARRAY_TASK_ID,
# SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT itself); a job that waits for every task then merges
# the shard folders into results/merged (deploy/README.md).
#
#   mkdir -p results && sbatch deploy/slurm-array.sh          # from the folder holding sweep.json
#
# N is the array's size: --array=0-3 runs 4 shards. A task that failed or was preempted is resubmitted
# with `sbatch --array=K deploy/slurm-array.sh`: --resume continues it from its last checkpoint (then run
# the merge line below by hand, since that submission's merge waits only for task K).
#SBATCH --job-name=webgpu-rl-sweep
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=04:00:00
#SBATCH --output=results/slurm-%A_%a.out
##SBATCH --gres=gpu:1      # a GPU with its Vulkan driver; without one, Mesa's lavapipe runs on the CPUs

set -euo pipefail
# Node >= 20 must be on the PATH (e.g. `module load nodejs/20` on clusters with environment modules).
SPEC="${SPEC:-sweep.json}"

# The array's first task submits the merge, which starts once every task of the array has succeeded.
if [[ "$SLURM_ARRAY_TASK_ID" == "${SLURM_ARRAY_TASK_MIN:-0}" ]]; then
  sbatch --dependency="afterok:${SLURM_ARRAY_JOB_ID}" --job-name=webgpu-rl-merge --output=results/slurm-merge-%j.out \
    --wrap="npx --yes webgpu-rl sweep merge results/shard-* --out results/merged --json"
fi

npx --yes webgpu-rl sweep --spec "$SPEC" --out "results/shard-${SLURM_ARRAY_TASK_ID}" --save-every 200 --resume --json
